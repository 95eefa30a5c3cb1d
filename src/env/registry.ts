/**
 * Env kinds: which spec loader and which env class a spec file stands for.
 *
 * A spec file's top-level `kind` picks the entry (`augment` when absent: the recommender specs
 * predate kinds). The run loop, the recorder, checkpoints and the monitor only ever see the
 * resulting `Env`, so a new env is one entry here.
 */
import { readJsonFile } from "../core/validate.ts";
import { AugmentEnv, type AugmentEnvDeps } from "./augment-env.ts";
import { createIntentEnv } from "./intent-env.ts";
import { loadIntentEnvSpec, type ResolvedIntentEnvSpec } from "./intent-spec.ts";
import { loadEnvSpec, loadSpecData, type ResolvedEnvSpec } from "./spec.ts";
import { TimeLimit } from "./time-limit.ts";
import type { Env } from "./types.ts";

/** What the run loop reads from any resolved spec. */
export interface CommonEnvSpec {
  kind?: string;
  name: string;
  source: string;
  rl: { budget: { epochs: number }; checkpointEvery: number; branches?: { count: number; stageSteps: number } };
}

/** Any resolved env spec (each kind's own type; `kind` tells them apart). */
export type AnyEnvSpec = (ResolvedEnvSpec & CommonEnvSpec) | ResolvedIntentEnvSpec;

/** Dependencies an env may take from its host (threads, logging); all optional. */
export interface EnvDeps {
  log?: (line: string) => void;
  /** Helper threads for the augment env's training shards and evaluations (results never depend on them). */
  shardRunner?: AugmentEnvDeps["shardRunner"];
  evalRunner?: AugmentEnvDeps["evalRunner"];
}

interface EnvKind {
  /** Read and validate a spec file of this kind. */
  load(file: string): AnyEnvSpec;
  /** Build the env (loading its data) for a resolved spec. */
  /** Build the env (loading its data; ops with models may load asynchronously) for a resolved spec. */
  create(spec: AnyEnvSpec, deps: EnvDeps): Promise<Env>;
}

const ENV_KINDS: Record<string, EnvKind> = {
  augment: {
    load: (file) => loadEnvSpec(file),
    create: async (spec, deps) => new AugmentEnv(spec as ResolvedEnvSpec, loadSpecData(spec as ResolvedEnvSpec, { log: deps.log }).split, { shardRunner: deps.shardRunner, evalRunner: deps.evalRunner }),
  },
  intent: {
    load: (file) => loadIntentEnvSpec(file),
    create: (spec, deps) => createIntentEnv(spec as ResolvedIntentEnvSpec, { log: deps.log ?? null }),
  },
};

/** Env kinds, for messages and docs. */
export const envKinds = (): string[] => Object.keys(ENV_KINDS);

function kindOf(spec: { kind?: unknown }, where: string): EnvKind {
  const kind = spec.kind ?? "augment";
  const entry = typeof kind === "string" ? ENV_KINDS[kind] : undefined;
  if (!entry) throw new Error(`${where}: \`kind\` must be one of ${envKinds().join(", ")}; got ${JSON.stringify(kind)}`);
  return entry;
}

/** Read any env spec file (its `kind` picks the loader). */
export function loadAnyEnvSpec(file: string): AnyEnvSpec {
  const raw = readJsonFile(file, "env spec", "pass an env spec such as envs/beauty-sasrec.json");
  const kind = raw && typeof raw === "object" ? (raw as { kind?: unknown }).kind : undefined;
  return kindOf({ kind }, file).load(file);
}

/** Build the env a resolved spec describes, wrapped in `TimeLimit` at its horizon. */
export async function createEnv(spec: AnyEnvSpec, deps: EnvDeps = {}): Promise<TimeLimit> {
  return new TimeLimit(await kindOf(spec, spec.source).create(spec, deps));
}
