/**
 * Does a learned augmentation policy beat the baselines, and what does it cost?
 *
 *   npm run bench:quality -- [--env envs/beauty-sasrec.json] [--seeds 1,2,3]
 *       [--agents none,random,trivial,fixed-best,bandit,reinforce,ppo,transfer]
 *       [--budget-epochs E] [--workers 2] [--grid crop:0.2,mask:0.2,substitute:0.2,insert:0.2]
 *       [--grid-seed 100 | --fixed-best-from bench/results/ceiling-x.json] [--transfer-seed 4] [--compare none,random]
 *       [--branches 2] [--stage-steps 1]
 *       [--learn-agent policies/reinforce.json] [--learn-episodes 100] [--learn-parallel 2] [--learn-seed 1000]
 *       [--out bench/results/quality-cells] [--name quality-beauty]
 *       [--warm-start-epochs N [--warm-start-seed 42] | --warm-start model.json] [--queue redis://HOST:PORT[/DB]]
 *
 * Works for every env kind (the recommender's `envs/beauty-*.json`, the intent envs
 * `envs/hint3-*.json`, `envs/banking77-*.json`): the headline metric is the env's first episode
 * metric (NDCG@10, accuracy). Every (arm, seed) cell is one `rl-train run` episode at the same
 * training budget (`--budget-epochs`, default the spec's own), in its own process (the wasm
 * backend uses one core per process), up to `--workers` cores at once. A cell that already has a
 * result file is skipped, so an interrupted benchmark resumes where it was. Arms:
 * - an agent name: `policies/<name>.json` (none, random, trivial, bandit, reinforce, ppo, …), or
 *   a path to an agent spec file (`….json`; the arm is named after the file);
 * - `fixed-best`: every `--grid` candidate (op:magnitude) runs once at `--grid-seed` (not an
 *   evaluation seed) and the best *validation* headline metric picks the one evaluated; with
 *   `--fixed-best-from <bench json>` the pick is instead the grid arm with the best mean
 *   validation metric in a finished ceiling grid (`grid` arms), and no new grid is run;
 * - `grid`: every `--grid` candidate as an arm of its own on the evaluation seeds (the ceiling
 *   grid: is any fixed op better than random?); arm names `op:magnitude`;
 * - `branch-<agent>`: `<agent>` (`uniform` = the trivial agent: a frozen uniform policy) playing
 *   `--branches` paired branches per stage of `--stage-steps` steps (rl.branches); such a cell
 *   occupies `--branches` cores;
 * - `learned`: `--learn-agent` trained over `--learn-episodes` episodes (`--learn-parallel` at a
 *   time) at `--learn-seed`, a seed no evaluation cell uses; its policy is exported as a schedule
 *   (op × training phase) and replayed on the evaluation seeds;
 * - `transfer`: the schedule exported from the best learned cell (reinforce/ppo) replayed once
 *   at `--transfer-seed`.
 * Every arm is compared with each `--compare` arm by paired per-seed differences with t-based
 * 95% intervals (same seed = same initial weights, batch order, dropout and negatives).
 * With `--queue`, plain cells are jobs for `rl-train worker` processes (see README, Scaling out).
 * Output: bench/results/<name>.json (`results`: agent, seed, valid, test, wall_s, cpu_s) and .md.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { mean, sampleStandardDeviation } from "simple-statistics";
import { markdownTable, progressReporter, provenance, writeResult } from "./report.ts";
import { formatPaired, pairedDifference, twoWayArmEffect } from "./stats.ts";
import type { CellSpec } from "../src/cli/cell.ts";
import type { CellJobResult } from "../src/cli/queue/worker.ts";

const { values: a } = parseArgs({
  options: {
    env: { type: "string", default: "envs/beauty-sasrec.json" },
    seeds: { type: "string", default: "1,2,3" },
    agents: { type: "string", default: "none,random,trivial,fixed-best,bandit,reinforce,ppo,transfer" },
    "budget-epochs": { type: "string" },
    workers: { type: "string", default: "2" },
    grid: { type: "string", default: "crop:0.2,mask:0.2,substitute:0.2,insert:0.2" },
    "grid-seed": { type: "string", default: "100" },
    "fixed-best-from": { type: "string" },
    "transfer-seed": { type: "string", default: "4" },
    compare: { type: "string", default: "none,random" },
    branches: { type: "string", default: "2" },
    "stage-steps": { type: "string", default: "1" },
    "learn-agent": { type: "string", default: "policies/reinforce.json" },
    "learn-episodes": { type: "string", default: "100" },
    "learn-parallel": { type: "string", default: "2" },
    "learn-seed": { type: "string", default: "1000" },
    "learn-phases": { type: "string", default: "4" },
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
const budget = a["budget-epochs"] === undefined ? undefined : Number(a["budget-epochs"]);
const workers = Math.max(1, Number(a.workers));
const branchCount = Number(a.branches);
const outDir = a.out!;
const specDir = path.join(outDir, "specs");
fs.mkdirSync(specDir, { recursive: true });

interface Cell { agent: string; seed: number; spec: string; key: string; env: string; slots: number }
interface CellResult { agent: string; seed: number; key: string; runDir: string; valid: Record<string, number>; test: Record<string, number>; wall_s: number; cpu_s?: number; return: number; steps: number }

const resultFile = (key: string) => path.join(outDir, `${key}.json`);
const done = (key: string) => fs.existsSync(resultFile(key));
const load = (key: string) => JSON.parse(fs.readFileSync(resultFile(key), "utf8")) as CellResult;

const { loadAnyEnvSpec } = await import("../src/env/index.ts");
const baseSpec = loadAnyEnvSpec(a.env!);
const kind = baseSpec.kind ?? "augment";
/** The env's episode metrics, headline first (what the table reports). */
const metrics = kind === "intent" ? ["accuracy", "inscope_accuracy", "oos_recall", "macro_f1"] : ["NDCG@10", "HR@10"];
const headline = metrics[0]!;

/**
 * A copy of `--env` written into the cells folder, with every path made relative to it (so the
 * cells folder works in any clone) and `mutate` applied: warm starts and branch arms.
 */
function writeEnvVariant(name: string, mutate: (raw: Record<string, any>) => void): string {
  const raw = JSON.parse(fs.readFileSync(a.env!, "utf8"));
  const baseDir = path.dirname(path.resolve(a.env!));
  const rel = (p: string) => path.relative(specDir, path.resolve(baseDir, p));
  for (const k of ["path", "titles", "attributes", "train", "test"]) if (typeof raw.dataset?.[k] === "string") raw.dataset[k] = rel(raw.dataset[k]);
  if (typeof raw.oos?.pseudo?.path === "string") raw.oos.pseudo.path = rel(raw.oos.pseudo.path);
  if (typeof raw.rl?.warmStart === "string") raw.rl.warmStart = rel(raw.rl.warmStart);
  if (typeof raw.rl?.transformer?.modelDir === "string") raw.rl.transformer.modelDir = rel(raw.rl.transformer.modelDir);
  mutate(raw);
  const file = path.join(specDir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

/** The env spec every cell uses: `--env`, or (warm start) a copy with `rl.warmStart`. */
async function cellEnv(): Promise<{ env: string; warm?: { model: string; epochs?: number; seed?: number; valid?: Record<string, number> } }> {
  if (!a["warm-start-epochs"] && !a["warm-start"]) return { env: a.env! };
  if (kind !== "augment") throw new Error("--warm-start applies to the recommender env only");
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
      // A kept warm folder (config and summary committed, the model not) is replaced whole.
      fs.rmSync(warmDir, { recursive: true, force: true });
      fs.renameSync(r.runDir, warmDir);
    }
  }
  const env = writeEnvVariant("env-warm", (raw) => {
    raw.rl = { ...raw.rl, warmStart: path.relative(specDir, model) };
    raw.name = `${raw.name}-warm`;
  });
  const { loadModelFile } = await import("../src/models/model-file.ts");
  const { loadEnvSpec: loadSpec, loadSpecData: data } = await import("../src/env/spec.ts");
  const spec = loadSpec(env);
  const m = loadModelFile(model, { config: spec.model, numItems: data(spec).split.dataset.numItems }, `--warm-start ${model}`);
  console.error(`[quality] every cell starts from ${model} (epoch ${m.epoch}, valid NDCG@10 ${m.valid?.["NDCG@10"]?.toFixed(4) ?? "?"})`);
  return { env, warm: { model: path.relative(process.cwd(), model), ...(epochs ? { epochs } : { epochs: m.epoch }), ...(a["warm-start"] ? {} : { seed }), ...(m.valid ? { valid: { "NDCG@10": m.valid["NDCG@10"]!, "HR@10": m.valid["HR@10"]! } } : {}) } };
}
const cellSpec = await cellEnv();

/** An arm's agent spec file: the arm itself when it is a path to one, else policies/<arm>.json. */
function specFor(agent: string): string {
  const p = agent.endsWith(".json") ? agent : `policies/${agent}.json`;
  if (!fs.existsSync(p)) throw new Error(`no agent spec ${p} for arm \`${agent}\``);
  return p;
}

const queue = a.queue ? await (await import("../src/cli/queue/client.ts")).QueueClient.connect(a.queue, (l) => console.error(l)) : undefined;

const fmt = (r: CellResult) => `valid ${headline} ${r.valid[headline]!.toFixed(4)} test ${headline} ${r.test[headline]!.toFixed(4)}`;

/** Run one cell as a queue job; write its run folder's files and its result file here. */
async function runQueuedCell(cell: Cell): Promise<CellResult> {
  const { loadAgentSpec, resolveAgentSpec } = await import("../src/agents/index.ts");
  const input: CellSpec = { agent: cell.agent, seed: cell.seed, key: cell.key, env: loadAnyEnvSpec(cell.env), agentSpec: resolveAgentSpec(loadAgentSpec(cell.spec)), ...(budget === undefined ? {} : { budgetEpochs: budget }), out: "" };
  const [res] = await queue!.run<CellSpec, CellJobResult>("cell", [input], () => `cell ${cell.key}`);
  const runDir = path.join(outDir, "runs", cell.key);
  fs.mkdirSync(runDir, { recursive: true });
  for (const [name, b64] of Object.entries(res!.files)) fs.writeFileSync(path.join(runDir, name), Buffer.from(b64, "base64"));
  const r: CellResult = { ...res!.outcome, runDir, wall_s: res!.wall_s };
  fs.writeFileSync(resultFile(cell.key), JSON.stringify(r, null, 2));
  console.error(`[quality] ${cell.key}: ${fmt(r)} (${r.wall_s.toFixed(0)}s on a queue worker)`);
  return r;
}

/** Run one cell in a child process (own wasm backend), or as a queue job with `--queue`. */
function runCell(cell: Cell): Promise<CellResult> {
  if (done(cell.key)) return Promise.resolve(load(cell.key));
  if (queue && cell.slots === 1) return runQueuedCell(cell);
  console.error(`[quality] ${cell.key}: started (${budget ?? "the spec's"} epoch(s)${cell.slots > 1 ? `, ${cell.slots} threads` : ""}; runs/${cell.key}/steps.arrows fills as it trains)`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const threads = workers > 1 ? 1 : "auto";
    const args = ["--import", "tsx", "bench/quality-cell.ts", JSON.stringify({
      agent: cell.agent, seed: cell.seed, key: cell.key, spec: cell.spec, env: cell.env, ...(budget === undefined ? {} : { budgetEpochs: budget }),
      out: path.join(outDir, "runs"), evalThreads: threads, trainThreads: threads, workers: cell.slots,
    })];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err = (err + String(d)).slice(-4000);
      for (const line of String(d).split("\n")) if (/episode \d+ done|Error|error/.test(line)) console.error(`[${cell.key}] ${line}`);
    });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`cell ${cell.key} failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" | ")}`));
      const r = { ...(JSON.parse(out.trim().split("\n").at(-1)!) as CellResult), wall_s: (performance.now() - t0) / 1000 };
      fs.writeFileSync(resultFile(cell.key), JSON.stringify(r, null, 2));
      console.error(`[quality] ${cell.key}: ${fmt(r)} (${r.wall_s.toFixed(0)}s)`);
      resolve(r);
    });
  });
}

/** Run cells in order on `--workers` cores; a cell takes `slots` cores (branch arms take one per branch). */
async function runAll(cells: Cell[]): Promise<CellResult[]> {
  const results: CellResult[] = new Array(cells.length);
  const progress = progressReporter("quality", "cells", cells.filter((c) => !done(c.key)).length, cells.length, (l) => console.error(l));
  if (queue) {
    // Queued cells all go to the queue at once: the workers decide how many run together.
    await Promise.all(cells.map(async (c, i) => {
      const fresh = !done(c.key);
      results[i] = await runCell(c);
      if (fresh) progress();
    }));
    return results;
  }
  let free = workers;
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let running = 0;
    const pump = () => {
      while (next < cells.length) {
        const cell = cells[next]!;
        const need = Math.min(cell.slots, workers);
        if (done(cell.key)) {
          results[next++] = { ...load(cell.key), agent: cell.agent };
          continue;
        }
        if (need > free) break;
        const i = next++;
        free -= need;
        running++;
        runCell(cell).then((r) => {
          results[i] = r;
          progress();
          free += need;
          running--;
          pump();
        }, reject);
      }
      if (next >= cells.length && running === 0) resolve();
    };
    pump();
  });
  return results;
}

/** Agent spec and env of an arm. */
function armCell(arm: string, seed: number): Cell {
  if (arm.startsWith("branch-")) {
    const inner = arm.slice("branch-".length);
    const spec = specFor(inner === "uniform" ? "trivial" : inner);
    const env = writeEnvVariant(`env-branches-${branchCount}x${a["stage-steps"]}`, (raw) => {
      raw.rl = { ...raw.rl, branches: { count: branchCount, stageSteps: Number(a["stage-steps"]) } };
      if (cellSpec.warm) raw.rl.warmStart = path.relative(specDir, path.resolve(cellSpec.warm.model));
      raw.name = `${raw.name}-branches`;
    });
    return { agent: arm, seed, spec, key: `${arm}-s${seed}`, env, slots: branchCount };
  }
  // An arm given as a policy file path is named after the file: `bench/specs/uniform-x4.json` → `uniform-x4`.
  const name = arm.endsWith(".json") ? path.basename(arm, ".json") : arm;
  return { agent: name, seed, spec: specFor(arm), key: `${name}-s${seed}`, env: cellSpec.env, slots: 1 };
}

/** Grid arms are named `op:magnitude` (an intent op may carry a copies suffix: `word-swap-x4:0.3`). */
const isGridArm = (agent: string) => /^[a-z][a-z0-9-]*:[0-9.]+$/.test(agent);

function gridCandidates(): Array<{ op: string; m: string; spec: string }> {
  return a.grid!.split(",").map((g) => {
    const [op, m] = g.split(":");
    if (!op || m === undefined) throw new Error(`--grid entries are op:magnitude, got ${JSON.stringify(g)}`);
    const spec = path.join(specDir, `fixed-${op}-${m}.json`);
    fs.writeFileSync(spec, JSON.stringify({ agent: "fixed", params: { op, magnitude: Number(m) } }));
    return { op, m, spec };
  });
}

/**
 * The learning run's key: learner, episodes, parallel episodes (when not 1) and seed — everything
 * the learned schedule depends on, so cells of another learner never pass for this one's.
 */
function learnKey(): string {
  const parallel = Number(a["learn-parallel"]) === 1 ? "" : `-p${a["learn-parallel"]}`;
  return `learn-${path.basename(a["learn-agent"]!, ".json")}-${a["learn-episodes"]}ep${parallel}-s${a["learn-seed"]}`;
}

/** Train `--learn-agent` across episodes at the learn seed (resumable: a finished run is reused) and export its schedule. */
async function learnPolicy(): Promise<{ spec: string; run: string; episodes: number; schedule: unknown }> {
  const key = learnKey();
  const runDir = path.join(outDir, "runs", key);
  const spec = path.join(specDir, `${key}-schedule.json`);
  const summary = path.join(runDir, "summary.json");
  const completed = fs.existsSync(summary) && JSON.parse(fs.readFileSync(summary, "utf8")).status === "completed";
  const { runExperiment, resumeExperiment } = await import("../src/cli/experiment.ts");
  if (!completed) {
    const opts = { log: (l: string) => { if (/episode \d+ done|resuming|run /.test(l)) console.error(`[${key}] ${l}`); }, workers: Math.min(workers, Number(a["learn-parallel"])) };
    if (fs.existsSync(path.join(runDir, "config.json"))) await resumeExperiment(runDir, opts);
    else {
      console.error(`[quality] learning: ${a["learn-agent"]} over ${a["learn-episodes"]} episodes (${a["learn-parallel"]} at a time), seed ${a["learn-seed"]}`);
      await runExperiment({
        env: cellSpec.env, agent: a["learn-agent"]!, episodes: Number(a["learn-episodes"]), parallelEpisodes: Number(a["learn-parallel"]),
        seed: Number(a["learn-seed"]), out: path.join(outDir, "runs"), runId: key, backend: "auto", checkpointEvery: 0,
        ...(budget === undefined ? {} : { budgetEpochs: budget }), evalThreads: 1, trainThreads: 1, ...opts,
      });
    }
  }
  const { exportPolicy } = await import("../src/cli/analysis.ts");
  // The last round of episodes: the policy after the most learning.
  const e = exportPolicy({ run: runDir, out: spec, phases: Number(a["learn-phases"]), episodes: "last" });
  return { spec, run: runDir, episodes: Number(a["learn-episodes"]), schedule: e.schedule };
}

const prov = provenance();
const all: CellResult[] = [];
const special = new Set(["fixed-best", "transfer", "grid", "learned"]);
const cells: Cell[] = [];
for (const seed of seeds) for (const agent of agents.filter((x) => !special.has(x))) cells.push(armCell(agent, seed));
let gridInfo: object | undefined;
if (agents.includes("grid")) {
  for (const { op, m, spec } of gridCandidates()) {
    for (const seed of seeds) cells.push({ agent: `${op}:${m}`, seed, spec, key: `grid-${op}-${m}-s${seed}`, env: cellSpec.env, slots: 1 });
  }
}
if (agents.includes("fixed-best") && a["fixed-best-from"]) {
  // Selection from a finished ceiling grid: the grid arm with the best mean validation metric over
  // that grid's seeds. A fixed-best cell is the same run as the grid cell of its op and seed, so it
  // shares that cell's key (and result, where the grid already ran it).
  const source = JSON.parse(fs.readFileSync(a["fixed-best-from"], "utf8")) as { results: Array<{ agent: string; seed: number; valid: Record<string, number> }> };
  const arms = new Map<string, number[]>();
  for (const r of source.results) if (isGridArm(r.agent)) arms.set(r.agent, [...(arms.get(r.agent) ?? []), r.valid[headline]!]);
  if (arms.size === 0) throw new Error(`--fixed-best-from ${a["fixed-best-from"]}: no grid arms (op:magnitude) in its results`);
  const candidates = [...arms].map(([arm, vs]) => ({ arm, seeds: vs.length, valid_mean: mean(vs) }));
  const chosen = candidates.reduce((x, y) => (y.valid_mean > x.valid_mean ? y : x));
  const [op, m] = chosen.arm.split(":") as [string, string];
  const spec = path.join(specDir, `fixed-${op}-${m}.json`);
  fs.writeFileSync(spec, JSON.stringify({ agent: "fixed", params: { op, magnitude: Number(m) } }));
  const selectionSeeds = [...new Set(source.results.filter((r) => arms.has(r.agent)).map((r) => r.seed))].sort((x, y) => x - y);
  gridInfo = { metric: `mean valid ${headline}`, source: a["fixed-best-from"], selection_seeds: selectionSeeds, also_evaluation_seeds: selectionSeeds.filter((x) => seeds.includes(x)), candidates, chosen: chosen.arm };
  console.error(`[quality] fixed-best = ${chosen.arm} (mean validation ${headline} ${chosen.valid_mean.toFixed(4)} over ${chosen.seeds} seeds of ${a["fixed-best-from"]})`);
  for (const seed of seeds) cells.push({ agent: "fixed-best", seed, spec, key: `grid-${op}-${m}-s${seed}`, env: cellSpec.env, slots: 1 });
} else if (agents.includes("fixed-best")) {
  const grid = gridCandidates().map(({ op, m, spec }) => ({ agent: "fixed", seed: Number(a["grid-seed"]), spec, key: `grid-${op}-${m}`, env: cellSpec.env, slots: 1 }));
  const gridRes = await runAll(grid);
  const best = gridRes.reduce((x, y) => (y.valid[headline]! > x.valid[headline]! ? y : x));
  const bestCell = grid[gridRes.indexOf(best)]!;
  gridInfo = { metric: `valid ${headline}`, seed: Number(a["grid-seed"]), candidates: gridRes.map((r, i) => ({ cell: grid[i]!.key, valid: r.valid[headline] })), chosen: bestCell.key };
  console.error(`[quality] fixed-best = ${bestCell.key} (validation ${headline} ${best.valid[headline]!.toFixed(4)})`);
  for (const seed of seeds) cells.push({ agent: "fixed-best", seed, spec: bestCell.spec, key: `fixed-best-s${seed}`, env: cellSpec.env, slots: 1 });
}
let learnInfo: object | undefined;
if (agents.includes("learned")) {
  const learned = await learnPolicy();
  learnInfo = { agent: a["learn-agent"], episodes: learned.episodes, parallel: Number(a["learn-parallel"]), seed: Number(a["learn-seed"]), run: learned.run, schedule_file: learned.spec, schedule: learned.schedule };
  const learnedKey = learnKey().replace(/^learn-/, "learned-");
  for (const seed of seeds) cells.push({ agent: "learned", seed, spec: learned.spec, key: `${learnedKey}-s${seed}`, env: cellSpec.env, slots: 1 });
}
// Seed by seed: an interrupted benchmark leaves every arm with the same finished seeds.
cells.sort((x, y) => x.seed - y.seed);
all.push(...(await runAll(cells)));
let transferInfo: object | undefined;
if (agents.includes("transfer")) {
  const learned = all.filter((r) => r.agent === "reinforce" || r.agent === "ppo");
  if (learned.length === 0) console.error("[quality] transfer skipped: no reinforce/ppo cells");
  else {
    const best = learned.reduce((x, y) => (y.valid[headline]! > x.valid[headline]! ? y : x));
    const spec = path.join(specDir, "transfer.json");
    const { exportPolicy } = await import("../src/cli/analysis.ts");
    exportPolicy({ run: best.runDir, out: spec, phases: 4 });
    transferInfo = { from: best.key, schedule: spec };
    all.push(...(await runAll([{ agent: "transfer", seed: Number(a["transfer-seed"]), spec, key: `transfer-s${a["transfer-seed"]}`, env: cellSpec.env, slots: 1 }])));
  }
}

// ---- analysis: what the agents chose, and how noisy the reward is

const { readArrowStream } = await import("../src/record/recorder.ts");
type Row = { step: number; branch?: number; op: string; reward: number | null };
const PHASES = 4;
/** Each run's steps, read once (fixed-best cells share their grid cell's run), with each row's training phase. */
const stepsCache = new Map<string, { rows: Row[]; phase: number[] }>();
function stepsOf(r: CellResult): { rows: Row[]; phase: number[] } {
  let s = stepsCache.get(r.runDir);
  if (!s) {
    const rows = readArrowStream<Row>(path.join(r.runDir, "steps.arrows")).rows;
    const steps = Math.max(1, ...rows.map((x) => x.step + 1));
    s = { rows, phase: rows.map((x) => Math.min(PHASES - 1, Math.floor((PHASES * x.step) / steps))) };
    stepsCache.set(r.runDir, s);
  }
  return s;
}
/**
 * The analyses below read every cell's steps file. The run folders are not committed, so a
 * report rebuilt from kept cells on another machine skips them (all or nothing: averages over
 * the cells that happen to be present would be biased) and says so.
 */
const cellsWithoutSteps = all.filter((r) => !fs.existsSync(path.join(r.runDir, "steps.arrows"))).length;
const stepAnalyses = cellsWithoutSteps === 0;
/** Per arm: share of each op per training phase (quarters of the episode), averaged over seeds. */
const phaseMix: Record<string, Record<string, number[]>> = {};
const rewardSd: Record<string, number> = {};
/** Per branch run: mean over stages of the sd of the branches' step rewards (stage = step index). */
const branchSpread: Record<string, number> = {};
for (const r of stepAnalyses ? all : []) {
  const { rows, phase } = stepsOf(r);
  const runsOfAgent = all.filter((y) => y.agent === r.agent).length;
  const mix = (phaseMix[r.agent] ??= {});
  const perPhase = Array.from({ length: PHASES }, () => 0);
  for (const p of phase) perPhase[p]!++;
  rows.forEach((x, i) => {
    const p = phase[i]!;
    (mix[x.op] ??= Array.from({ length: PHASES }, () => 0))[p]! += 1 / perPhase[p]! / runsOfAgent;
  });
  const rw = rows.filter((x) => (x.branch ?? 0) === 0).map((x) => x.reward ?? 0);
  if (rw.length > 1) rewardSd[r.key] = sampleStandardDeviation(rw);
  if (rows.some((x) => (x.branch ?? 0) > 0)) {
    const byStep = new Map<number, number[]>();
    for (const x of rows) byStep.set(x.step, [...(byStep.get(x.step) ?? []), x.reward ?? 0]);
    const sds = [...byStep.values()].filter((v) => v.length > 1).map((v) => sampleStandardDeviation(v));
    if (sds.length) branchSpread[r.key] = mean(sds);
  }
}
const noneSd = Object.entries(rewardSd).filter(([k]) => k.startsWith("none-")).map(([, v]) => v);

/**
 * The grid's spread between ops, in the units of the branch spread. Every grid cell of one seed
 * starts from the same state and trains its first stage on the same batches, dropout and
 * negatives, so the first step's rewards differ only by the op: their sd across ops (mean over
 * seeds) is the signal a single stage offers a learner, and a two-way test (ops × seed blocks)
 * says whether that signal is consistent across seeds. The same test on the final validation
 * metric says whether the ops differ at the end of the budget.
 */
interface OpEffect { F: number; df: [number, number]; p: number; sd_of_op_means: number; op_means: Record<string, number> }
interface GridSpread { ops: number; seeds: number; first_step_reward_sd_between_ops?: number; first_step_reward_op_effect?: OpEffect | null; valid_op_effect?: OpEffect }
function gridSpread(): GridSpread | undefined {
  const gridRuns = all.filter((r) => isGridArm(r.agent) && seeds.includes(r.seed));
  const ops = [...new Set(gridRuns.map((r) => r.agent))];
  if (ops.length < 2) return undefined;
  const seedsAll = seeds.filter((s) => ops.every((op) => gridRuns.some((r) => r.agent === op && r.seed === s)));
  if (seedsAll.length < 2) return { ops: ops.length, seeds: seedsAll.length };
  const run = (op: string, s: number) => gridRuns.find((r) => r.agent === op && r.seed === s)!;
  const firstReward = (r: CellResult) => stepsOf(r).rows.find((x) => x.step === 0 && (x.branch ?? 0) === 0)?.reward ?? NaN;
  const first = stepAnalyses ? ops.map((op) => seedsAll.map((s) => firstReward(run(op, s)))) : [];
  const valid = ops.map((op) => seedsAll.map((s) => run(op, s).valid[headline]!));
  const test = (table: number[][]): OpEffect => {
    const t = twoWayArmEffect(table);
    return { F: t.f, df: t.df, p: t.p, sd_of_op_means: sampleStandardDeviation(t.armMeans), op_means: Object.fromEntries(ops.map((op, i) => [op, t.armMeans[i]!])) };
  };
  return {
    ops: ops.length, seeds: seedsAll.length,
    ...(stepAnalyses ? {
      first_step_reward_sd_between_ops: mean(seedsAll.map((_, j) => sampleStandardDeviation(first.map((row) => row[j]!)))),
      first_step_reward_op_effect: first.flat().every(Number.isFinite) ? test(first) : null,
    } : {}),
    valid_op_effect: test(valid),
  };
}
const gridSpreadInfo = gridSpread();
/** The JSON names the metric in the key, as the reports have since this analysis was added. */
function jsonGridSpread({ valid_op_effect, ...rest }: GridSpread): object {
  return valid_op_effect ? { ...rest, [`valid_${headline}_op_effect`]: valid_op_effect } : rest;
}
function gridSpreadLine(): string {
  const g = gridSpreadInfo;
  if (!g?.valid_op_effect) return "";
  const eff = (e: OpEffect | null | undefined) => (e ? `F = ${e.F.toFixed(2)} on (${e.df.join(", ")}) df, p = ${e.p.toFixed(3)}` : "-");
  const firstStep = g.first_step_reward_sd_between_ops === undefined ? "" : `first-step reward (same state, same batches, only the op differs) sd across ops ${g.first_step_reward_sd_between_ops.toFixed(3)}, op effect ${eff(g.first_step_reward_op_effect)}; `;
  return `Grid spread between ops (${g.ops} ops × ${g.seeds} seeds; two-way tests with seeds as blocks): ${firstStep}final valid ${headline}: sd of the op means ${g.valid_op_effect.sd_of_op_means.toPrecision(2)}, op effect ${eff(g.valid_op_effect)}.`;
}
const spreadsByAgent: Record<string, number[]> = {};
for (const r of all) if (r.key in branchSpread) (spreadsByAgent[r.agent] ??= []).push(branchSpread[r.key]!);
const spreadByAgent = Object.fromEntries(Object.entries(spreadsByAgent).map(([agent, xs]) => [agent, mean(xs)]));

/** Learning arms: each seed's most used op per phase, and how many seeds share the modal choice. */
const learningArms = [...new Set(all.map((r) => r.agent))].filter((x) => x.startsWith("branch-") && x !== "branch-uniform" || ["reinforce", "ppo", "bandit", "learned"].includes(x));
const agreement: Record<string, Array<{ phase: number; top_op_per_seed: Record<number, string>; modal: string; share: number }>> = {};
for (const agent of stepAnalyses ? learningArms : []) {
  agreement[agent] = Array.from({ length: PHASES }, (_, p) => {
    const top: Record<number, string> = {};
    for (const r of all.filter((x) => x.agent === agent)) {
      const { rows, phase } = stepsOf(r);
      const counts = new Map<string, number>();
      rows.forEach((x, i) => { if (phase[i] === p) counts.set(x.op, (counts.get(x.op) ?? 0) + 1); });
      top[r.seed] = [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]?.[0] ?? "-";
    }
    const tally = new Map<string, number>();
    for (const op of Object.values(top)) tally.set(op, (tally.get(op) ?? 0) + 1);
    const [modal, n] = [...tally].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0] ?? ["-", 0];
    return { phase: p + 1, top_op_per_seed: top, modal, share: n / Math.max(1, Object.keys(top).length) };
  });
}

const byAgent = new Map<string, CellResult[]>();
for (const r of all) byAgent.set(r.agent, [...(byAgent.get(r.agent) ?? []), r]);
const ms = (xs: number[]) => (xs.length > 1 ? `${mean(xs).toFixed(4)} ± ${sampleStandardDeviation(xs).toFixed(4)}` : xs[0]!.toFixed(4));
const compareArms = a.compare!.split(",").filter((c) => byAgent.has(c));
const bySeed = (rs: CellResult[], split: "valid" | "test") => new Map(rs.map((r) => [r.seed, r[split][headline]!]));
const paired: Record<string, Record<string, { test: ReturnType<typeof pairedDifference>; valid: ReturnType<typeof pairedDifference> }>> = {};
for (const [agent, rs] of byAgent) {
  for (const c of compareArms) {
    if (c === agent) continue;
    const base = byAgent.get(c)!;
    (paired[agent] ??= {})[c] = { test: pairedDifference(bySeed(rs, "test"), bySeed(base, "test")), valid: pairedDifference(bySeed(rs, "valid"), bySeed(base, "valid")) };
  }
}
const cpu = (rs: CellResult[]) => {
  const xs = rs.map((r) => r.cpu_s).filter((x): x is number => typeof x === "number");
  return xs.length ? mean(xs).toFixed(0) : "-";
};
const table = [...byAgent].map(([agent, rs]) => ({
  agent, seeds: rs.length > 6 ? `${rs.length} (${Math.min(...rs.map((r) => r.seed))}–${Math.max(...rs.map((r) => r.seed))})` : rs.map((r) => r.seed).join(","),
  [`test ${headline}`]: ms(rs.map((r) => r.test[headline]!)),
  ...Object.fromEntries(metrics.slice(1, 2).map((m) => [`test ${m}`, ms(rs.map((r) => r.test[m]!))])),
  [`valid ${headline}`]: ms(rs.map((r) => r.valid[headline]!)),
  ...Object.fromEntries(compareArms.map((c) => [`test − ${c} (paired, 95% CI)`, c === agent ? "0" : formatPaired(paired[agent]![c]!.test)])),
  ...Object.fromEntries(compareArms.slice(0, 1).map((c) => [`valid − ${c} (paired, 95% CI)`, c === agent ? "0" : formatPaired(paired[agent]![c]!.valid)])),
  "wall s": mean(rs.map((r) => r.wall_s)).toFixed(0),
  "CPU s": cpu(rs),
}));
const protocol = kind === "intent"
  ? { dataset: baseSpec.name, split: "train / seeded stratified validation / official test", metrics: "HINT3's accuracy over all test rows, in-scope accuracy, out-of-scope recall, macro-F1", threshold: "out-of-scope threshold chosen on validation (and pseudo-out-of-scope queries) only", selection: "model at the end of the budget" }
  : { dataset: "beauty", split: "leave-one-out", ranking: "full, history excluded", users: 22363, selection: "model at the end of the budget (no early stopping)" };
const json = {
  protocol, headline_metric: headline, env: a.env, env_kind: kind,
  budget: { epochs_per_run: budget ?? "spec", episodes_per_run: 1, env: a.env, branches: agents.some((x) => x.startsWith("branch-")) ? { count: branchCount, stageSteps: Number(a["stage-steps"]) } : undefined, ...(cellSpec.warm ? { warm_start: cellSpec.warm } : {}) },
  machine: prov.machine, commit: prov.commit, command: prov.command, date: prov.date,
  fixed_best: gridInfo, learned: learnInfo, transfer: transferInfo,
  paired,
  analysis: { op_mix_by_phase: phaseMix, reward_sd_per_run: rewardSd, reward_sd_none_mean: noneSd.length ? mean(noneSd) : null, branch_reward_spread_per_run: branchSpread, branch_reward_spread_by_agent: spreadByAgent, grid_spread: gridSpreadInfo ? jsonGridSpread(gridSpreadInfo) : null, learned_op_agreement: agreement },
  results: all.map((r) => ({ agent: r.agent, seed: r.seed, valid: r.valid, test: r.test, wall_s: r.wall_s, cpu_s: r.cpu_s ?? null, return: r.return, run: r.runDir })),
};
const mixLines = Object.entries(phaseMix).map(([agent, m]) => {
  const phase = (p: number) => Object.entries(m).map(([op, f]) => [op, f[p]!] as const).sort((x, y) => y[1] - x[1]).slice(0, 3).map(([op, f]) => `${op} ${(100 * f).toFixed(0)}%`).join(", ");
  return `- ${agent}: ${Array.from({ length: PHASES }, (_, p) => `[${phase(p)}]`).join(" → ")}`;
});
const spreadLines = Object.entries(branchSpread).length
  ? [`Between-branch spread of step rewards (mean over stages of the sd across branches; with a frozen uniform policy this is the A/A noise floor a stage's comparison works against): ${Object.entries(spreadByAgent).map(([k, v]) => `${k} mean ${v.toFixed(3)}`).join(", ")}; per run ${Object.entries(branchSpread).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ")}.`]
  : [];
const md = [
  `# Augmentation policies on ${baseSpec.name} (${budget ?? "the spec's"} epochs per run${cellSpec.warm ? `, warm start from the epoch-${cellSpec.warm.epochs} model` : ""})`, "",
  cellSpec.warm ? `Every run starts from ${cellSpec.warm.model}: SASRec trained ${cellSpec.warm.epochs} epochs without augmentation (validation NDCG@10 ${cellSpec.warm.valid?.["NDCG@10"]?.toFixed(4) ?? "?"}); seeds change dropout, negatives, batch order and augmentation.` : "", "",
  `Protocol: ${Object.values(protocol).join("; ")}. Commit ${prov.commit}, ${prov.machine}.`, `Command: \`${prov.command}\``, "",
  markdownTable(table), "",
  "Paired columns: mean of the per-seed difference with its t-based 95% interval and how many seeds were ahead; same seed = same initial weights, batch order, dropout and negatives.",
  gridInfo ? (a["fixed-best-from"] ? `fixed-best (validation only, from the ceiling grid ${a["fixed-best-from"]}; evaluation seeds that were also selection seeds favour fixed-best, if anything): ${JSON.stringify(gridInfo)}` : `fixed-best grid (validation only, seed ${a["grid-seed"]}): ${JSON.stringify(gridInfo)}`) : "",
  learnInfo ? `learned: ${a["learn-agent"]} trained over ${a["learn-episodes"]} episodes at seed ${a["learn-seed"]} (${a["learn-parallel"]} in parallel), exported as a ${(learnInfo as { schedule: { phases: unknown[] } }).schedule.phases.length}-phase schedule (${path.relative(process.cwd(), (learnInfo as { schedule_file: string }).schedule_file)}), replayed on the evaluation seeds.` : "",
  transferInfo ? `transfer: ${JSON.stringify(transferInfo)}` : "", "",
  ...(mixLines.length ? [`Op mix per training phase (quarters of the episode; top 3 ops, share of steps, averaged over seeds):`, ...mixLines, ""] : []),
  ...spreadLines,
  gridSpreadLine(),
  stepAnalyses ? "" : `Step analyses (op mix per phase, reward noise, branch spread, first-step reward, learners' op agreement) skipped: ${cellsWithoutSteps} of ${all.length} cells have no steps file on this machine (run folders are not committed; rerun those cells to restore them).`,
  ...Object.entries(agreement).map(([agent, ph]) => `Most used op per phase, ${agent}: ${ph.map((x) => `phase ${x.phase} ${x.modal} (${x.share === 1 ? "all seeds" : `${Math.round(100 * x.share)}% of seeds`})`).join("; ")}.`),
  noneSd.length ? `Reward noise: per-step reward sd of the \`none\` agent (no augmentation, so pure training/evaluation noise) = ${mean(noneSd).toFixed(3)}.` : "",
].join("\n");
writeResult(a.name!, json, md);
console.log(md);
await queue?.close();
