/**
 * What every section of the speed benchmark shares: the parsed options, the log, and the
 * backend and data, each set up on first use so a section that needs neither (ops, recorder,
 * monitor) starts no backend and loads no data.
 */
import { fileURLToPath } from "node:url";
import type { LeaveOneOutSplit } from "../../src/data/types.ts";
import { loadEnvSpec, loadSpecData, type ResolvedEnvSpec } from "../../src/env/spec.ts";
import { selectBackend, type BackendChoice, type BackendInfo } from "../../src/tf/backend.ts";
import type { SectionId } from "../speed-lib.ts";

/** The benchmark's options (bench/speed.ts documents the flags). */
export interface SpeedOptions {
  sections: SectionId[];
  env: string;
  backend: BackendChoice;
  seed: number;
  epochsTimed: number;
  warmupBatches: number;
  /** Smoke tests only: time just the first N batches of the bucketed epoch (the result says so). */
  trainBatches: number | undefined;
  fullPadding: boolean;
  fullPaddingBatches: number;
  trainThreads: number | "auto";
  unsharded: boolean;
  evalRepeats: number;
  recorderRows: number;
  obsDim: number;
  monitorClients: number;
  monitorEvents: number;
  monitorSteps: number;
  monitorWork: number;
  monitorReps: number;
  /** Intent env specs timed by the `intent` section. */
  intentEnvs: string[];
}

/** What a section returns: its result object (JSON) and its markdown paragraph. */
export interface SectionOutput {
  json: Record<string, unknown>;
  md: string;
  skipped?: boolean;
}

/** The repository root (bench/speed/ is two levels down). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export class SpeedContext {
  /** The backend, once a section has asked for it (recorded in the result). */
  backendInfo: BackendInfo | undefined;
  /** Mean trainStep ms per batch of the bucketed epoch: set by the train section, read by the ops section. */
  trainMsPerBatch: number | undefined;
  private backendP: Promise<BackendInfo> | undefined;
  private specData: { spec: ResolvedEnvSpec; split: LeaveOneOutSplit } | undefined;

  constructor(readonly opts: SpeedOptions, readonly log: (line: string) => void) {}

  backend(): Promise<BackendInfo> {
    return (this.backendP ??= selectBackend(this.opts.backend, (l) => this.log(l)).then((b) => (this.backendInfo = b)));
  }

  data(): { spec: ResolvedEnvSpec; split: LeaveOneOutSplit } {
    if (!this.specData) {
      const spec = loadEnvSpec(this.opts.env);
      const t = performance.now();
      const { split } = loadSpecData(spec, { log: this.log });
      this.log(`loaded ${spec.name}: ${split.train.length} users, ${split.dataset.numItems} items (${((performance.now() - t) / 1000).toFixed(1)} s)`);
      this.specData = { spec, split };
    }
    return this.specData;
  }
}
