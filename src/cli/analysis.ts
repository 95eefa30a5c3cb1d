/**
 * Reading finished runs: `rl-train export-policy` (the learned schedule) and `rl-train compare`
 * (the metric table). Both read only the run folder's Arrow logs and config.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { esSchedule, scheduleFromSteps, type AgentState, type Schedule } from "../agents/index.ts";
import { FINAL_AGENT_FILE } from "./checkpoint.ts";
import { readArrowStream } from "../record/recorder.ts";
import { DEFAULT_EPISODE_METRICS, metricColumn, type EpisodeRow, type StepRow } from "../record/schema.ts";

function requireRun(runDir: string): void {
  if (!fs.existsSync(path.join(runDir, "steps.arrows"))) {
    throw new Error(`\`${runDir}\` is not a run folder (no steps.arrows); pass runs/<run-id>`);
  }
}

/** The agent state a completed run saved, or undefined (unfinished run, or one from before the file existed). */
function readFinalAgent(run: string): AgentState | undefined {
  const file = path.join(run, FINAL_AGENT_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as AgentState) : undefined;
}

export interface ExportPolicyOptions {
  run: string;
  out: string;
  /** Training phases in the schedule. Default 4. */
  phases?: number;
  /**
   * Which episodes to learn the schedule from: `last` (default; the most trained policy), `all`,
   * or a count N: the last N episodes (one short episode is a noisy sample of its policy).
   */
  episodes?: "last" | "all" | number;
}

/**
 * Build `{agent: "schedule", schedule}` from a run's step log and write it to `out`: per phase,
 * the share of each op and magnitude among the steps played. A completed `es` run exports its
 * mean schedule instead (from the saved final agent; `phases` is then the agent's own; `steps`
 * in the result is then 0: no step was read).
 */
export function exportPolicy(o: ExportPolicyOptions): { file: string; schedule: Schedule; steps: number; from: "steps" | "agent" } {
  const which = o.episodes ?? "last";
  if (which !== "last" && which !== "all" && !(Number.isInteger(which) && which >= 1)) throw new Error(`export-policy: \`episodes\` must be last, all or an integer ≥ 1, got ${which}`);
  const finalAgent = readFinalAgent(o.run);
  // An es agent's policy is its mean schedule; the steps only show its perturbed episodes, so
  // they are not read (a kept es run folder may leave its large steps log out).
  if (finalAgent?.agent === "es") return writeSchedule(o.out, esSchedule(finalAgent), 0, "agent");
  requireRun(o.run);
  const steps = readArrowStream<StepRow>(path.join(o.run, "steps.arrows")).rows;
  if (steps.length === 0) throw new Error(`run \`${o.run}\` has no steps yet`);
  // A loop, not Math.max(...rows): a spread of a long run's 150,000 steps overflows the stack.
  const lastEpisode = steps.reduce((m, r) => Math.max(m, r.episode), -Infinity);
  const count = which === "all" ? Infinity : which === "last" ? 1 : which;
  // Episode numbers are consecutive (a resumed run continues the count).
  const use = steps.filter((r) => r.episode > lastEpisode - count);
  return writeSchedule(o.out, scheduleFromSteps(stepShares(steps, use), o.phases ?? 4), use.length, "steps");
}

function writeSchedule(out: string, schedule: Schedule, steps: number, from: "steps" | "agent") {
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ agent: "schedule", schedule }, null, 2) + "\n");
  return { file: out, schedule, steps, from };
}

/** The rows a step-share schedule is built from: each used step's op and magnitude at its training progress. */
function stepShares(steps: StepRow[], use: StepRow[]): Array<{ progress: number; op: string; magnitude: number }> {
  const perEpisode = new Map<number, number>();
  for (const r of steps) perEpisode.set(r.episode, Math.max(perEpisode.get(r.episode) ?? 0, r.step + 1));
  return use.map((r) => ({
    // progress as the agent saw it when acting: steps done before this one / episode length
    progress: r.step / perEpisode.get(r.episode)!,
    op: r.ops.length ? r.ops[0]! : "identity",
    magnitude: r.ops.length ? r.magnitudes[0]! : 0,
  }));
}

export interface CompareRow {
  run: string;
  agent: string;
  seed: string;
  episodes: number;
  steps: number;
  meanReturn: number;
  /** Env kind of the run (`augment`, `intent`). */
  envKind: string;
  /** The env's episode metrics, headline first (from config.json; v1 runs: the recommender's). */
  metrics: string[];
  /** Last episode's full validation and test metrics, keyed by metric name. */
  valid: Record<string, number>;
  test: Record<string, number>;
  /** Shorthands of the recommender's headline metrics (NaN for other envs). */
  validNdcg10: number;
  testNdcg10: number;
  testHr10: number;
  testNdcg20: number;
}

/** The env kind and episode metric names a run recorded in config.json. */
function runMetricNames(run: string): { kind: string; metrics: string[] } {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8")) as { env_kind?: string; episode_metrics?: string[] };
    return { kind: info.env_kind ?? "augment", metrics: info.episode_metrics ?? [...DEFAULT_EPISODE_METRICS] };
  } catch {
    return { kind: "augment", metrics: [...DEFAULT_EPISODE_METRICS] };
  }
}

/** One row per run: the last episode's metrics (the policy after the most learning). */
export function compareRuns(runs: string[]): CompareRow[] {
  return runs.map((run) => {
    const file = path.join(run, "episodes.arrows");
    if (!fs.existsSync(file)) throw new Error(`\`${run}\` has no episodes.arrows; pass finished run folders`);
    const eps = readArrowStream<EpisodeRow>(file).rows;
    if (eps.length === 0) throw new Error(`run \`${run}\` has no finished episode yet`);
    const last = eps[eps.length - 1]!;
    const { kind, metrics } = runMetricNames(run);
    const pick = (prefix: "valid" | "test") =>
      Object.fromEntries(metrics.map((m) => [m, (last as unknown as Record<string, number | null>)[`${prefix}_${metricColumn(m)}`] ?? NaN]));
    const valid = pick("valid");
    const test = pick("test");
    return {
      run: path.basename(run),
      agent: last.agent,
      seed: last.seed,
      episodes: eps.length,
      steps: eps.reduce((s, e) => s + e.steps, 0),
      meanReturn: eps.reduce((s, e) => s + e.return, 0) / eps.length,
      envKind: kind,
      metrics,
      valid,
      test,
      validNdcg10: valid["NDCG@10"] ?? NaN,
      testNdcg10: test["NDCG@10"] ?? NaN,
      testHr10: test["HR@10"] ?? NaN,
      testNdcg20: test["NDCG@20"] ?? NaN,
    };
  });
}

/** Markdown table of `compareRuns` rows: valid headline metric, then the first three test metrics of the first run's env. */
export function formatCompare(rows: CompareRow[]): string {
  if (rows.length === 0) return "(no runs)";
  const metrics = rows[0]!.metrics;
  const testCols = metrics.slice(0, 3);
  const head = `| run | agent | seed | episodes | steps | mean return | valid ${metrics[0]} | ${testCols.map((m) => `test ${m}`).join(" | ")} |`;
  const sep = `|${"---|".repeat(7 + testCols.length)}`;
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(4));
  const protocol = rows[0]!.envKind === "augment"
    ? "leave-one-out, full ranking over all items, all users"
    : "full validation and test sets; out-of-scope threshold chosen on validation";
  return [
    `Last episode of each run; ${protocol}.`,
    head, sep,
    ...rows.map((r) => `| ${r.run} | ${r.agent} | ${r.seed} | ${r.episodes} | ${r.steps} | ${r.meanReturn.toFixed(3)} | ${f(r.valid[metrics[0]!])} | ${testCols.map((m) => f(r.test[m])).join(" | ")} |`),
  ].join("\n");
}
