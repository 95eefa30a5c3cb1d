/**
 * Mean ± sd of finished `bench:baseline` results over seeds (each run selects its own epoch on
 * validation; test is read there). Reads the named result files; writes <name>.json and .md.
 *
 *   npm run bench:baseline-seeds -- --runs sasrec-beauty,sasrec-beauty-seed1,sasrec-beauty-seed2 [--name sasrec-beauty-seeds] [--title "SASRec on Beauty"]
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { mean, sampleStandardDeviation } from "simple-statistics";
import { markdownTable, provenance, writeResult } from "./report.ts";

const { values: a } = parseArgs({ options: { runs: { type: "string" }, name: { type: "string", default: "sasrec-beauty-seeds" }, title: { type: "string", default: "SASRec on Beauty" } } });
if (!a.runs) throw new Error("pass --runs name1,name2,… (result files under bench/results/, without .json)");

interface BaselineResult {
  status: string; seed: number; best_epoch: number; epochs: number; command: string; commit: string;
  valid: Record<string, number>; test: Record<string, number>; seconds_per_epoch?: number; wall_s?: number;
  contrastive?: unknown; time_to_test_ndcg10_0030?: unknown;
}
const runs = a.runs.split(",").map((name) => {
  const file = `bench/results/${name}.json`;
  if (!fs.existsSync(file)) throw new Error(`no result file ${file}`);
  const r = JSON.parse(fs.readFileSync(file, "utf8")) as BaselineResult;
  if (r.status !== "finished") throw new Error(`${file} is ${r.status}, not finished`);
  return { name, ...r };
});
const metrics = ["HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20"];
const stat = (xs: number[]) => ({ mean: mean(xs), sd: xs.length > 1 ? sampleStandardDeviation(xs) : 0 });
const test = Object.fromEntries(metrics.map((m) => [m, stat(runs.map((r) => r.test[m]!))]));
const valid = Object.fromEntries(["HR@10", "NDCG@10"].map((m) => [m, stat(runs.map((r) => r.valid[m]!))]));
const prov = provenance();
const json = {
  dataset: "beauty",
  protocol: { split: "leave-one-out", ranking: "full, history excluded", users: 22363, selection: "each run at its best validation NDCG@10" },
  seeds: runs.map((r) => r.seed),
  runs: runs.map((r) => ({ result: r.name, seed: r.seed, best_epoch: r.best_epoch, epochs: r.epochs, valid: { "NDCG@10": r.valid["NDCG@10"], "HR@10": r.valid["HR@10"] }, test: r.test, seconds_per_epoch: r.seconds_per_epoch, wall_s: r.wall_s, ...(r.contrastive !== undefined ? { contrastive: r.contrastive, time_to_test_ndcg10_0030: r.time_to_test_ndcg10_0030 } : {}), commit: r.commit, command: r.command })),
  valid, test, commit: prov.commit, command: prov.command, machine: prov.machine, date: prov.date,
};
const f = (s: { mean: number; sd: number }) => `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`;
const md = [
  `# ${a.title} over ${runs.length} seeds`, "",
  `Each run selects its epoch on validation NDCG@10 (full ranking, 22,363 users); test is read there. ${prov.machine}, commit ${prov.commit}.`,
  `Command: \`${prov.command}\``, "",
  markdownTable(runs.map((r) => ({ seed: r.seed, "best epoch / run": `${r.best_epoch} / ${r.epochs}`, "valid NDCG@10": r.valid["NDCG@10"]!.toFixed(4), "test NDCG@10": r.test["NDCG@10"]!.toFixed(4), "test HR@10": r.test["HR@10"]!.toFixed(4), "test NDCG@20": r.test["NDCG@20"]!.toFixed(4), result: r.name }))),
  "", `Mean ± sd: test NDCG@10 **${f(test["NDCG@10"]!)}**, HR@10 **${f(test["HR@10"]!)}**, NDCG@20 ${f(test["NDCG@20"]!)}; valid NDCG@10 ${f(valid["NDCG@10"]!)}.`,
].join("\n");
writeResult(a.name!, json, md);
console.log(md);
