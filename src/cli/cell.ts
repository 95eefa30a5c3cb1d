/**
 * One benchmark cell of `npm run bench:quality`: one `rl-train run` episode of one agent at one
 * seed. The benchmark runs it in a child process (bench/quality-cell.ts) or, with `--queue`, a
 * queue worker runs it on a thread (src/cli/queue/worker.ts): both call `runCell`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResolvedAgentSpec } from "../agents/index.ts";
import type { AnyEnvSpec } from "../env/index.ts";
import { runExperiment } from "./experiment.ts";

export interface CellSpec {
  agent: string;
  seed: number;
  /** Cell key, e.g. `reinforce-s3`: also the run id. */
  key: string;
  /** Env spec file, or the resolved spec (queue jobs carry specs as data). */
  env: string | AnyEnvSpec;
  /** Agent spec file, or the resolved spec. */
  agentSpec: string | ResolvedAgentSpec;
  /** Training budget per episode; default the spec's own. */
  budgetEpochs?: number;
  /** Folder that receives the run folder `<out>/<key>/`. */
  out: string;
  evalThreads?: number | "auto";
  trainThreads?: number | "auto";
  /** Worker threads for paired branches (a branch arm's cell); default 1. */
  workers?: number;
}

/** What the benchmark's table needs from a cell (the run folder holds the rest). */
export interface CellOutcome {
  agent: string;
  seed: number;
  key: string;
  runDir: string;
  valid: Record<string, number>;
  test: Record<string, number>;
  return: number;
  steps: number;
}

export async function runCell(c: CellSpec, log?: ((line: string) => void) | null): Promise<CellOutcome> {
  const r = await runExperiment({
    ...(typeof c.env === "string" ? { env: c.env } : { env: c.env.source, envSpec: c.env }),
    ...(typeof c.agentSpec === "string" ? { agent: c.agentSpec } : { agent: c.agentSpec.agent, agentSpec: c.agentSpec }),
    episodes: 1, seed: c.seed, out: c.out, runId: c.key, ...(c.budgetEpochs === undefined ? {} : { budgetEpochs: c.budgetEpochs }), backend: "auto", workers: c.workers ?? 1,
    evalThreads: c.evalThreads ?? 1, trainThreads: c.trainThreads ?? c.evalThreads ?? 1,
    ...(log === undefined ? {} : { log }),
  });
  const e = r.episodes[0]!;
  return { agent: c.agent, seed: c.seed, key: c.key, runDir: r.runDir, valid: e.valid, test: e.test, return: e.return, steps: e.steps };
}

/** The files of a run folder that a remote cell sends back (checkpoints stay behind: a finished cell is not resumed). */
export function readRunFiles(runDir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of fs.readdirSync(runDir).sort()) {
    const p = path.join(runDir, name);
    if (fs.statSync(p).isFile()) out[name] = fs.readFileSync(p);
  }
  return out;
}
