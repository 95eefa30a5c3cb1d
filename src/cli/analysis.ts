/**
 * Reading finished runs: `rl-train export-policy` (the learned schedule) and `rl-train compare`
 * (the metric table). Both read only the run folder's Arrow logs and config.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { scheduleFromSteps, type Schedule } from "../agents/schedule.ts";
import { readArrowStream } from "../record/recorder.ts";
import type { EpisodeRow, StepRow } from "../record/schema.ts";

function requireRun(runDir: string): void {
  if (!fs.existsSync(path.join(runDir, "steps.arrows"))) {
    throw new Error(`\`${runDir}\` is not a run folder (no steps.arrows); pass runs/<run-id>`);
  }
}

export interface ExportPolicyOptions {
  run: string;
  out: string;
  /** Training phases in the schedule. Default 4. */
  phases?: number;
  /** Which episodes to learn the schedule from: `last` (default; the most trained policy) or `all`. */
  episodes?: "last" | "all";
}

/** Build `{agent: "schedule", schedule}` from a run's step log and write it to `out`. */
export function exportPolicy(o: ExportPolicyOptions): { file: string; schedule: Schedule; steps: number } {
  requireRun(o.run);
  const steps = readArrowStream<StepRow>(path.join(o.run, "steps.arrows")).rows;
  if (steps.length === 0) throw new Error(`run \`${o.run}\` has no steps yet`);
  const lastEpisode = Math.max(...steps.map((r) => r.episode));
  const use = (o.episodes ?? "last") === "last" ? steps.filter((r) => r.episode === lastEpisode) : steps;
  const perEpisode = new Map<number, number>();
  for (const r of steps) perEpisode.set(r.episode, Math.max(perEpisode.get(r.episode) ?? 0, r.step + 1));
  const rows = use.map((r) => ({
    // progress as the agent saw it when acting: steps done before this one / episode length
    progress: r.step / perEpisode.get(r.episode)!,
    op: r.ops.length ? r.ops[0]! : "identity",
    magnitude: r.ops.length ? r.magnitudes[0]! : 0,
  }));
  const schedule = scheduleFromSteps(rows, o.phases ?? 4);
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  const doc = { agent: "schedule", schedule };
  fs.writeFileSync(o.out, JSON.stringify(doc, null, 2) + "\n");
  return { file: o.out, schedule, steps: rows.length };
}

export interface CompareRow {
  run: string;
  agent: string;
  seed: string;
  episodes: number;
  steps: number;
  meanReturn: number;
  validNdcg10: number;
  testNdcg10: number;
  testHr10: number;
  testNdcg20: number;
}

/** One row per run: the last episode's metrics (the policy after the most learning). */
export function compareRuns(runs: string[]): CompareRow[] {
  return runs.map((run) => {
    const file = path.join(run, "episodes.arrows");
    if (!fs.existsSync(file)) throw new Error(`\`${run}\` has no episodes.arrows; pass finished run folders`);
    const eps = readArrowStream<EpisodeRow>(file).rows;
    if (eps.length === 0) throw new Error(`run \`${run}\` has no finished episode yet`);
    const last = eps[eps.length - 1]!;
    return {
      run: path.basename(run),
      agent: last.agent,
      seed: last.seed,
      episodes: eps.length,
      steps: eps.reduce((s, e) => s + e.steps, 0),
      meanReturn: eps.reduce((s, e) => s + e.return, 0) / eps.length,
      validNdcg10: last.valid_ndcg10 ?? NaN,
      testNdcg10: last.test_ndcg10 ?? NaN,
      testHr10: last.test_hr10 ?? NaN,
      testNdcg20: last.test_ndcg20 ?? NaN,
    };
  });
}

export function formatCompare(rows: CompareRow[]): string {
  const head = "| run | agent | seed | episodes | steps | mean return | valid NDCG@10 | test NDCG@10 | test HR@10 | test NDCG@20 |";
  const sep = "|---|---|---|---|---|---|---|---|---|---|";
  const f = (x: number) => x.toFixed(4);
  return [
    "Last episode of each run; leave-one-out, full ranking over all items, all users.",
    head, sep,
    ...rows.map((r) => `| ${r.run} | ${r.agent} | ${r.seed} | ${r.episodes} | ${r.steps} | ${r.meanReturn.toFixed(3)} | ${f(r.validNdcg10)} | ${f(r.testNdcg10)} | ${f(r.testHr10)} | ${f(r.testNdcg20)} |`),
  ].join("\n");
}
