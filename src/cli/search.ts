/**
 * `rl-train search`: the policy search that fits in a few minutes, end to end.
 *
 * 1. A learning agent (default REINFORCE) plays one episode of the env in paired branches
 *    (`--branches`, one per core): at every stage the branches start from the same state, sample
 *    their own actions, the agent learns from their rewards relative to their mean, and the best
 *    branch is kept (src/cli/branches.ts).
 * 2. The control: the same search with a frozen uniform policy (`--control`, default the
 *    trivial agent): the same best-of-K selection without learning, so the difference between the
 *    two is what learning added.
 * 3. The learned schedule (op distribution per training phase) is exported as an agent spec that
 *    `rl-train run --agent <file>` replays.
 * Both runs use the same seed (same initial weights, batch order, dropout and negatives). One
 * seed is a demonstration, not a claim: `npm run bench:quality` compares arms over many seeds.
 */
import * as path from "node:path";
import { loadAgentSpec, resolveAgentSpec } from "../agents/index.ts";
import { loadAnyEnvSpec } from "../env/index.ts";
import type { BackendChoice } from "../tf/backend.ts";
import { exportPolicy } from "./analysis.ts";
import { runExperiment, type RunResult } from "./experiment.ts";
import { checkExperimentOptions, parseNumberOption } from "./options.ts";

export interface SearchOptions {
  /** Env spec. Default envs/beauty-views-ndcg.json (the view env where the ops' effects differ, README Results d). */
  env?: string;
  /** The learning agent. Default policies/reinforce-stage.json (REINFORCE tuned to one update per two stages). */
  agent?: string;
  /** The control: the same branches with a policy that does not learn. Default policies/trivial.json. */
  control?: string;
  /** Branches per stage. Default 2. */
  branches?: number;
  /** Env steps per stage. Default 1. */
  stageSteps?: number;
  /** Training epochs of the episode. Default 2 (about 3 minutes per run on 2 cores). */
  budgetEpochs?: number;
  /** Training phases of the exported schedule. Default 4. */
  phases?: number;
  seed?: number;
  out?: string;
  backend?: BackendChoice;
  /** Serve the live monitor of the search run on this port. */
  monitor?: number;
  log?: ((line: string) => void) | null;
  print?: (text: string) => void;
}

export interface SearchResult {
  search: RunResult;
  control: RunResult;
  /** The exported schedule (agent spec file). */
  policyFile: string;
  table: string;
}

export const SEARCH_DEFAULTS = { env: "envs/beauty-views-ndcg.json", agent: "policies/reinforce-stage.json", control: "policies/trivial.json", branches: 2, stageSteps: 1, budgetEpochs: 2, phases: 4, seed: 1, out: "runs" };

export async function runSearch(options: SearchOptions = {}): Promise<SearchResult> {
  const o = { ...SEARCH_DEFAULTS, ...options };
  checkExperimentOptions({ seed: o.seed, budgetEpochs: o.budgetEpochs, monitor: o.monitor, out: o.out });
  parseNumberOption("--branches", o.branches, { integer: true, min: 2, max: 64 });
  parseNumberOption("--stage-steps", o.stageSteps, { integer: true, min: 1, max: 1_000_000 });
  parseNumberOption("--phases", o.phases, { integer: true, min: 1, max: 1000 });
  const print = o.print ?? ((t: string) => console.log(t));
  const log = o.log === undefined ? (l: string) => console.error(l) : o.log;
  const envSpec = loadAnyEnvSpec(o.env);
  (envSpec.rl as { branches?: { count: number; stageSteps: number } }).branches = { count: o.branches, stageSteps: o.stageSteps };
  const common = { env: o.env, envSpec, episodes: 1, seed: o.seed, out: o.out, budgetEpochs: o.budgetEpochs, backend: o.backend ?? "auto", log } as const;
  log?.(`[augrl] search: ${o.agent} in ${o.branches} paired branches per ${o.stageSteps}-step stage for ${o.budgetEpochs} epoch(s) of ${envSpec.name}, then the control ${o.control}`);
  const learned = resolveAgentSpec(loadAgentSpec(o.agent));
  const search = await runExperiment({ ...common, agent: o.agent, agentSpec: learned, ...(o.monitor !== undefined ? { monitor: o.monitor } : {}) });
  const control = await runExperiment({ ...common, agent: o.control, agentSpec: resolveAgentSpec(loadAgentSpec(o.control)) });
  const policyFile = path.join(search.runDir, "policy.json");
  const exported = exportPolicy({ run: search.runDir, out: policyFile, phases: o.phases });

  const metricNames = Object.keys(search.episodes[0]!.test);
  const headline = ["NDCG@10", "accuracy"].find((m) => metricNames.includes(m)) ?? metricNames[0]!;
  const heldOut = metricNames.includes(`heldout:${headline}`) ? `heldout:${headline}` : undefined;
  const row = (name: string, r: RunResult) => {
    const e = r.episodes[0]!;
    const f = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(4));
    return `| ${name} | ${path.basename(r.runDir)} | ${f(e.valid[headline])} | ${f(e.test[headline])} | ${heldOut ? `${f(e.valid[heldOut])} | ${f(e.test[heldOut])} | ` : ""}${e.return.toFixed(2)} |`;
  };
  const phases = exported.schedule.phases.map((p, i) =>
    `  phase ${i + 1} (until ${(100 * p.until).toFixed(0)}% of training): ${p.ops.slice().sort((x, y) => y.prob - x.prob).map((x) => `${x.op} ${(100 * x.prob).toFixed(0)}%`).join(", ")}`);
  const table = [
    `Policy search on ${envSpec.name}, seed ${o.seed}, ${o.budgetEpochs} epoch(s), ${o.branches} branches per stage (one seed: a demonstration; npm run bench:quality compares arms over many seeds).`,
    `| run | folder | valid ${headline} | test ${headline} | ${heldOut ? `valid ${heldOut} | test ${heldOut} | ` : ""}return |`,
    `|---|---|---|---|${heldOut ? "---|---|" : ""}---|`,
    row(`search (${learned.agent})`, search),
    row(`control (${path.basename(o.control, ".json")}, no learning)`, control),
    "",
    `Learned schedule (op share per training phase, from the search's steps), written to ${policyFile}:`,
    ...phases,
    `Replay it: rl-train run --env ${o.env} --agent ${policyFile}`,
  ].join("\n");
  print(table);
  return { search, control, policyFile, table };
}
