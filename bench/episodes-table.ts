/**
 * Per-episode paired table of two multi-episode runs with the same seed (same episode seeds):
 *   node --import tsx bench/episodes-table.ts --runs runs/<a>,runs/<b> --name <result name>
 * Writes bench/results/<name>.json and .md: each episode's valid/test NDCG@10 for both runs,
 * the share of identity steps, and the paired difference (mean ± sd).
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { mean, sampleStandardDeviation } from "simple-statistics";
import { readArrowStream } from "../src/record/recorder.ts";
import { markdownTable, provenance, writeResult } from "./report.ts";

const { values: a } = parseArgs({ options: { runs: { type: "string" }, name: { type: "string", default: "episodes-paired" } } });
const runs = (a.runs ?? "").split(",").filter(Boolean);
if (runs.length !== 2) throw new Error("--runs needs two run folders, comma-separated (learned first, baseline second)");
const load = (dir: string) => {
  const eps = readArrowStream<{ episode: number; agent: string; seed: string; valid_ndcg10: number; test_ndcg10: number }>(path.join(dir, "episodes.arrows")).rows;
  const steps = readArrowStream<{ episode: number; op: string }>(path.join(dir, "steps.arrows")).rows;
  return eps.map((e) => {
    const ops = steps.filter((s) => Number(s.episode) === Number(e.episode));
    return { episode: Number(e.episode), agent: e.agent, seed: e.seed, valid: e.valid_ndcg10, test: e.test_ndcg10, identity: ops.filter((s) => s.op === "none").length / Math.max(1, ops.length) };
  });
};
const [x, y] = runs.map(load) as [ReturnType<typeof load>, ReturnType<typeof load>];
const rows = x.map((e, i) => {
  const b = y[i]!;
  if (b.seed !== e.seed) throw new Error(`episode ${i}: seeds differ (${e.seed} vs ${b.seed}); pair runs with the same --seed`);
  return { episode: e.episode, seed: e.seed, [`${e.agent} valid`]: e.valid.toFixed(4), [`${b.agent} valid`]: b.valid.toFixed(4), [`${e.agent} test`]: e.test.toFixed(4), [`${b.agent} test`]: b.test.toFixed(4), "test diff": (e.test - b.test).toFixed(4), [`${e.agent} identity steps`]: `${(100 * e.identity).toFixed(0)}%` };
});
// One episode has no spread: print its value alone.
const ms = (v: number[]) => (v.length > 1 ? `${mean(v).toFixed(4)} ± ${sampleStandardDeviation(v).toFixed(4)}` : v[0]!.toFixed(4));
const summary = {
  test: { [x[0]!.agent]: ms(x.map((e) => e.test)), [y[0]!.agent]: ms(y.map((e) => e.test)), paired_diff: ms(x.map((e, i) => e.test - y[i]!.test)), wins: x.filter((e, i) => e.test > y[i]!.test).length },
  valid: { [x[0]!.agent]: ms(x.map((e) => e.valid)), [y[0]!.agent]: ms(y.map((e) => e.valid)), paired_diff: ms(x.map((e, i) => e.valid - y[i]!.valid)), wins: x.filter((e, i) => e.valid > y[i]!.valid).length },
};
const prov = provenance();
writeResult(a.name!, { runs, episodes: rows, summary, commit: prov.commit, command: prov.command, machine: prov.machine, date: prov.date }, [
  `# ${x[0]!.agent} vs ${y[0]!.agent}, episode by episode (same episode seeds)`, "",
  `Runs: ${runs.join(", ")}. Commit ${prov.commit}, ${prov.machine}.`, `Command: \`${prov.command}\``, "",
  markdownTable(rows), "",
  `Test NDCG@10: ${JSON.stringify(summary.test)}`, "", `Valid NDCG@10: ${JSON.stringify(summary.valid)}`,
].join("\n"));
