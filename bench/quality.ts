/**
 * Does a learned augmentation policy beat the baselines on Beauty, and what does it cost?
 *
 *   npm run bench:quality -- [--env envs/beauty-sasrec.json] [--seeds 1,2,3]
 *       [--agents none,random,trivial,fixed-best,bandit,reinforce,ppo,transfer]
 *       [--budget-epochs 5] [--workers 2] [--grid crop:0.2,mask:0.2,substitute:0.2,insert:0.2]
 *       [--grid-seed 100] [--transfer-seed 4] [--out bench/results/quality-cells]
 *       [--warm-start-epochs N [--warm-start-seed 42] | --warm-start model.json] [--name quality-beauty]
 *       [--queue redis://HOST:PORT[/DB]]
 *
 * Every (agent, seed) cell is one `rl-train run` episode at the same training budget, run in its
 * own process (the wasm backend uses one core per process), up to `--workers` at once. A cell
 * that already has a result file is skipped, so an interrupted benchmark resumes where it was.
 * With `--queue`, every cell is a job for `rl-train worker` processes (any number, any machine;
 * `--workers` does not apply): the job carries the resolved env and agent specs, the worker runs
 * the same `runCell` on a thread and returns the outcome and the run folder's files, which this
 * process writes into `<out>/runs/<key>/` before the cell's result file, so resuming works the
 * same way (and a job that finished while this process was down is not run again).
 * - fixed-best: every grid candidate is run once at `--grid-seed` (not an evaluation seed) and
 *   the best *validation* NDCG@10 picks the (op, magnitude) used for the evaluation seeds.
 * - transfer: the schedule exported from the learned run (reinforce/ppo) with the best
 *   validation NDCG@10, replayed on a fresh run with `--transfer-seed`.
 * - warm start: `--warm-start-epochs N` first trains SASRec without augmentation for N epochs
 *   (`rl-train baseline --save-model`, seed `--warm-start-seed`, skipped when its model file
 *   exists) and every cell starts from that model (`rl.warmStart`), so the budget measures
 *   augmentation late in training, where it can act as a regulariser; `--warm-start FILE` uses
 *   an existing model file instead.
 * Output: bench/results/<name>.json and .md (mean ± sd per agent).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { mean, sampleStandardDeviation } from "simple-statistics";
import { markdownTable, provenance, writeResult } from "./report.ts";
import type { CellSpec } from "../src/cli/cell.ts";
import type { CellJobResult } from "../src/cli/queue/worker.ts";

const { values: a } = parseArgs({
  options: {
    env: { type: "string", default: "envs/beauty-sasrec.json" },
    seeds: { type: "string", default: "1,2,3" },
    agents: { type: "string", default: "none,random,trivial,fixed-best,bandit,reinforce,ppo,transfer" },
    "budget-epochs": { type: "string", default: "5" },
    workers: { type: "string", default: "2" },
    grid: { type: "string", default: "crop:0.2,mask:0.2,substitute:0.2,insert:0.2" },
    "grid-seed": { type: "string", default: "100" },
    "transfer-seed": { type: "string", default: "4" },
    out: { type: "string", default: "bench/results/quality-cells" },
    name: { type: "string", default: "quality-beauty" },
    "warm-start-epochs": { type: "string" },
    "warm-start-seed": { type: "string", default: "42" },
    "warm-start": { type: "string" },
    queue: { type: "string" },
  },
});
const seeds = a.seeds!.split(",").map(Number);
const agents = a.agents!.split(",");
const budget = Number(a["budget-epochs"]);
const outDir = a.out!;
const specDir = path.join(outDir, "specs");
fs.mkdirSync(specDir, { recursive: true });

interface Cell { agent: string; seed: number; spec: string; key: string }
interface CellResult { agent: string; seed: number; key: string; runDir: string; valid: Record<string, number>; test: Record<string, number>; wall_s: number; return: number; steps: number }

const resultFile = (key: string) => path.join(outDir, `${key}.json`);
const done = (key: string) => fs.existsSync(resultFile(key));
const load = (key: string) => JSON.parse(fs.readFileSync(resultFile(key), "utf8")) as CellResult;

/**
 * The env spec every cell uses: `--env` itself, or (warm start) a copy with `rl.warmStart`
 * pointing at the pretrained model, written into the cells folder with paths relative to it.
 */
async function cellEnv(): Promise<{ env: string; warm?: { model: string; epochs?: number; seed?: number; valid?: Record<string, number> } }> {
  if (!a["warm-start-epochs"] && !a["warm-start"]) return { env: a.env! };
  let model = a["warm-start"] ? path.resolve(a["warm-start"]) : "";
  const epochs = a["warm-start-epochs"] ? Number(a["warm-start-epochs"]) : undefined;
  const seed = Number(a["warm-start-seed"]);
  if (!model) {
    const warmDir = path.join(outDir, `warm-${epochs}ep-s${seed}`);
    model = path.resolve(warmDir, "model.json");
    if (!fs.existsSync(model)) {
      console.error(`[quality] warm start: training ${epochs} epochs without augmentation (seed ${seed}) → ${model}`);
      const { runBaseline } = await import("../src/cli/baseline-run.ts");
      const r = await runBaseline({ env: a.env!, epochs, evalEvery: epochs, patience: 1, seed, out: outDir, saveModel: true, progress: "lines", print: () => {}, evalThreads: "auto" });
      fs.renameSync(r.runDir, warmDir);
    }
  }
  const { loadModelFile } = await import("../src/models/model-file.ts");
  const raw = JSON.parse(fs.readFileSync(a.env!, "utf8"));
  const baseDir = path.dirname(path.resolve(a.env!));
  // Paths relative to the written spec, so that the cells folder works in any clone.
  const rel = (p: string) => path.relative(specDir, p);
  for (const k of ["path", "titles", "attributes"]) if (raw.dataset[k]) raw.dataset[k] = rel(path.resolve(baseDir, raw.dataset[k]));
  raw.rl = { ...raw.rl, warmStart: rel(model) };
  raw.name = `${raw.name}-warm`;
  const env = path.join(specDir, "env-warm.json");
  fs.writeFileSync(env, JSON.stringify(raw, null, 2));
  const { loadEnvSpec: load, loadSpecData: data } = await import("../src/env/spec.ts");
  const spec = load(env);
  const m = loadModelFile(model, { config: spec.model, numItems: data(spec).split.dataset.numItems }, `--warm-start ${model}`);
  console.error(`[quality] every cell starts from ${model} (epoch ${m.epoch}, valid NDCG@10 ${m.valid?.["NDCG@10"]?.toFixed(4) ?? "?"})`);
  return { env, warm: { model: path.relative(process.cwd(), model), ...(epochs ? { epochs } : { epochs: m.epoch }), ...(a["warm-start"] ? {} : { seed }), ...(m.valid ? { valid: { "NDCG@10": m.valid["NDCG@10"]!, "HR@10": m.valid["HR@10"]! } } : {}) } };
}
const cellSpec = await cellEnv();

function specFor(agent: string): string {
  const p = `policies/${agent}.json`;
  if (!fs.existsSync(p)) throw new Error(`no agent spec ${p}`);
  return p;
}

const queue = a.queue ? await (await import("../src/cli/queue/client.ts")).QueueClient.connect(a.queue, (l) => console.error(l)) : undefined;

/** Run one cell as a queue job; write its run folder's files and its result file here. */
async function runQueuedCell(cell: Cell): Promise<CellResult> {
  const { loadAnyEnvSpec } = await import("../src/env/index.ts");
  const { loadAgentSpec, resolveAgentSpec } = await import("../src/agents/index.ts");
  const input: CellSpec = { agent: cell.agent, seed: cell.seed, key: cell.key, env: loadAnyEnvSpec(cellSpec.env), agentSpec: resolveAgentSpec(loadAgentSpec(cell.spec)), budgetEpochs: budget, out: "" };
  const [res] = await queue!.run<CellSpec, CellJobResult>("cell", [input], () => `cell ${cell.key}`);
  const runDir = path.join(outDir, "runs", cell.key);
  fs.mkdirSync(runDir, { recursive: true });
  for (const [name, b64] of Object.entries(res!.files)) fs.writeFileSync(path.join(runDir, name), Buffer.from(b64, "base64"));
  const r: CellResult = { ...res!.outcome, runDir, wall_s: res!.wall_s };
  fs.writeFileSync(resultFile(cell.key), JSON.stringify(r, null, 2));
  console.error(`[quality] ${cell.key}: valid NDCG@10 ${r.valid["NDCG@10"]!.toFixed(4)} test NDCG@10 ${r.test["NDCG@10"]!.toFixed(4)} (${r.wall_s.toFixed(0)}s on a queue worker)`);
  return r;
}

/** Run one cell in a child process (own wasm backend, own core), or as a queue job with `--queue`. */
function runCell(cell: Cell): Promise<CellResult> {
  if (done(cell.key)) return Promise.resolve(load(cell.key));
  if (queue) return runQueuedCell(cell);
  console.error(`[quality] ${cell.key}: started (${budget} epoch(s); runs/${cell.key}/steps.arrows fills as it trains)`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const args = ["--import", "tsx", "bench/quality-cell.ts", JSON.stringify({ ...cell, env: cellSpec.env, budgetEpochs: budget, out: path.join(outDir, "runs"), evalThreads: Number(a.workers) > 1 ? 1 : "auto" })];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      for (const line of String(d).split("\n")) if (/episode \d+ done|Error|error/.test(line)) console.error(`[${cell.key}] ${line}`);
    });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`cell ${cell.key} failed (exit ${code})`));
      const r = { ...(JSON.parse(out.trim().split("\n").at(-1)!) as CellResult), wall_s: (performance.now() - t0) / 1000 };
      fs.writeFileSync(resultFile(cell.key), JSON.stringify(r, null, 2));
      console.error(`[quality] ${cell.key}: valid NDCG@10 ${r.valid["NDCG@10"]!.toFixed(4)} test NDCG@10 ${r.test["NDCG@10"]!.toFixed(4)} (${r.wall_s.toFixed(0)}s)`);
      resolve(r);
    });
  });
}

async function runAll(cells: Cell[]): Promise<CellResult[]> {
  const results: CellResult[] = new Array(cells.length);
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const i = next++;
      results[i] = await runCell(cells[i]!);
    }
  };
  // Queued cells all go to the queue at once: the workers decide how many run together.
  await Promise.all(Array.from({ length: queue ? cells.length : Math.max(1, Number(a.workers)) }, worker));
  return results;
}

const prov = provenance();
const all: CellResult[] = [];
const plain = agents.filter((x) => !["fixed-best", "transfer"].includes(x));
const wantsFixed = agents.includes("fixed-best");
const cells: Cell[] = [];
for (const seed of seeds) for (const agent of plain) cells.push({ agent, seed, spec: specFor(agent), key: `${agent}-s${seed}` });
let gridInfo: object | undefined;
if (wantsFixed) {
  const grid = a.grid!.split(",").map((g) => {
    const [op, m] = g.split(":");
    const spec = path.join(specDir, `fixed-${op}-${m}.json`);
    fs.writeFileSync(spec, JSON.stringify({ agent: "fixed", params: { op, magnitude: Number(m) } }));
    return { agent: "fixed", seed: Number(a["grid-seed"]), spec, key: `grid-${op}-${m}` } as Cell;
  });
  const gridRes = await runAll(grid);
  const best = gridRes.reduce((x, y) => (y.valid["NDCG@10"]! > x.valid["NDCG@10"]! ? y : x));
  const bestCell = grid[gridRes.indexOf(best)]!;
  gridInfo = { candidates: gridRes.map((r, i) => ({ cell: grid[i]!.key, valid_ndcg10: r.valid["NDCG@10"] })), chosen: bestCell.key };
  console.error(`[quality] fixed-best = ${bestCell.key} (validation NDCG@10 ${best.valid["NDCG@10"]!.toFixed(4)})`);
  for (const seed of seeds) cells.push({ agent: "fixed-best", seed, spec: bestCell.spec, key: `fixed-best-s${seed}` });
}
all.push(...(await runAll(cells)));
let transferInfo: object | undefined;
if (agents.includes("transfer")) {
  const learned = all.filter((r) => r.agent === "reinforce" || r.agent === "ppo");
  if (learned.length === 0) console.error("[quality] transfer skipped: no reinforce/ppo cells");
  else {
    const best = learned.reduce((x, y) => (y.valid["NDCG@10"]! > x.valid["NDCG@10"]! ? y : x));
    const spec = path.join(specDir, "transfer.json");
    const { exportPolicy } = await import("../src/cli/analysis.ts");
    exportPolicy({ run: best.runDir, out: spec, phases: 4 });
    transferInfo = { from: best.key, schedule: spec };
    all.push(await runCell({ agent: "transfer", seed: Number(a["transfer-seed"]), spec, key: `transfer-s${a["transfer-seed"]}` }));
  }
}

// Analysis: which ops each agent chose (last third of the run, where learners have learned most)
// and how noisy the reward is (sd of per-step rewards of the `none` agent: pure training noise).
const { readArrowStream } = await import("../src/record/recorder.ts");
const { loadEnvSpec } = await import("../src/env/spec.ts");
const envSpec = loadEnvSpec(cellSpec.env);
const opMix: Record<string, Record<string, number>> = {};
const rewardSd: Record<string, number> = {};
for (const r of all) {
  const rows = readArrowStream<{ step: number; op: string; reward: number | null }>(path.join(r.runDir, "steps.arrows")).rows;
  const tail = rows.filter((x) => x.step >= (2 * rows.length) / 3);
  const mix = (opMix[r.agent] ??= {});
  const runsOfAgent = all.filter((y) => y.agent === r.agent).length;
  for (const x of tail) mix[x.op] = (mix[x.op] ?? 0) + 1 / tail.length / runsOfAgent;
  const rw = rows.map((x) => x.reward ?? 0);
  if (rw.length > 1) rewardSd[r.key] = sampleStandardDeviation(rw);
}
const noneSd = Object.entries(rewardSd).filter(([k]) => k.startsWith("none-")).map(([, v]) => v);

const byAgent = new Map<string, CellResult[]>();
for (const r of all) byAgent.set(r.agent, [...(byAgent.get(r.agent) ?? []), r]);
const ms = (xs: number[]) => (xs.length > 1 ? `${mean(xs).toFixed(4)} ± ${sampleStandardDeviation(xs).toFixed(4)}` : xs[0]!.toFixed(4));
/** Mean ± sd of the per-seed difference to `none`, and in how many seeds the agent was ahead. */
function paired(agent: string, rs: CellResult[], split: "valid" | "test"): string {
  if (agent === "none") return "0";
  const base = new Map((byAgent.get("none") ?? []).map((r) => [r.seed, r[split]["NDCG@10"]!]));
  const d = rs.filter((r) => base.has(r.seed)).map((r) => r[split]["NDCG@10"]! - base.get(r.seed)!);
  if (d.length === 0) return "-";
  const sign = (x: number) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(4);
  const ahead = `(${d.filter((x) => x > 0).length}/${d.length} ahead)`;
  return d.length > 1 ? `${sign(mean(d))} ± ${sampleStandardDeviation(d).toFixed(4)} ${ahead}` : sign(d[0]!);
}
const table = [...byAgent].map(([agent, rs]) => ({
  agent, seeds: rs.map((r) => r.seed).join(","),
  "test NDCG@10": ms(rs.map((r) => r.test["NDCG@10"]!)), "test HR@10": ms(rs.map((r) => r.test["HR@10"]!)),
  "valid NDCG@10": ms(rs.map((r) => r.valid["NDCG@10"]!)),
  // Same seed = same batch order, dropout masks and negatives as the `none` run (and, with a
  // warm start, the same initial model), so the per-seed difference removes most of the spread.
  "test NDCG@10 − none (paired)": paired(agent, rs, "test"),
  "valid NDCG@10 − none (paired)": paired(agent, rs, "valid"),
  "wall s": mean(rs.map((r) => r.wall_s)).toFixed(0),
}));
const protocol = { dataset: "beauty", split: "leave-one-out", ranking: "full, history excluded", users: 22363, selection: "model at the end of the budget (no early stopping)" };
const json = {
  protocol, budget: { epochs_per_run: budget, episodes_per_run: 1, env: a.env, ...(cellSpec.warm ? { warm_start: cellSpec.warm } : {}) }, machine: prov.machine, commit: prov.commit, command: prov.command, date: prov.date,
  fixed_best: gridInfo, transfer: transferInfo,
  analysis: { op_mix_last_third: opMix, reward_sd_per_run: rewardSd, reward_sd_none_mean: noneSd.length ? mean(noneSd) : null },
  results: all.map((r) => ({ agent: r.agent, seed: r.seed, valid: { "NDCG@10": r.valid["NDCG@10"], "HR@10": r.valid["HR@10"] }, test: { "NDCG@10": r.test["NDCG@10"], "HR@10": r.test["HR@10"] }, wall_s: r.wall_s, return: r.return, run: r.runDir })),
};
const mixLines = Object.entries(opMix).map(([agent, m]) => `- ${agent}: ${Object.entries(m).sort((x, y) => y[1] - x[1]).slice(0, 4).map(([op, f]) => `${op} ${(100 * f).toFixed(0)}%`).join(", ")}`);
const md = [
  `# Augmentation policies on Beauty (${budget} epochs per run${cellSpec.warm ? `, warm start from the epoch-${cellSpec.warm.epochs} model` : ""})`, "",
  cellSpec.warm ? `Every run starts from ${cellSpec.warm.model}: SASRec trained ${cellSpec.warm.epochs} epochs without augmentation (validation NDCG@10 ${cellSpec.warm.valid?.["NDCG@10"]?.toFixed(4) ?? "?"}); seeds change dropout, negatives, batch order and augmentation.` : "", "",
  `Protocol: ${Object.values(protocol).join("; ")}. Commit ${prov.commit}, ${prov.machine}.`, `Command: \`${prov.command}\``, "",
  markdownTable(table), "",
  gridInfo ? `fixed-best grid (validation only, seed ${a["grid-seed"]}): ${JSON.stringify(gridInfo)}` : "",
  transferInfo ? `transfer: ${JSON.stringify(transferInfo)}` : "", "",
  "Op mix in the last third of each run (share of steps, averaged over seeds):", ...mixLines, "",
  noneSd.length ? `Reward noise: per-step reward sd of the \`none\` agent (no augmentation at all, so pure training/evaluation noise) = ${mean(noneSd).toFixed(3)} (reward = ${envSpec.rl.reward.scale} × Δ${envSpec.rl.reward.metric} on ${envSpec.rl.reward.validUsers} validation users after every ${envSpec.rl.batchesPerStep} batches).` : "",
].join("\n");
writeResult(a.name!, json, md);
console.log(md);
await queue?.close();
