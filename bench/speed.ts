/**
 * Speed benchmark: where the time of a run goes on this machine.
 *
 *   npm run bench:speed -- [--sections train,eval,ops,recorder,monitor,rl] [--env envs/beauty-sasrec.json]
 *                          [--backend auto] [--seed 42] [--epochs-timed 1] [--warmup-batches 4]
 *                          [--full-padding | --no-full-padding] [--full-padding-batches 10]
 *                          [--train-threads auto|N] [--unsharded | --no-unsharded]
 *                          [--eval-repeats 3] [--recorder-rows 20000] [--obs-dim 30]
 *                          [--monitor-clients 10] [--monitor-events 10000] [--monitor-steps 2000]
 *                          [--monitor-work 500000] [--monitor-reps 3] [--name speed] [--out-dir bench/results]
 *
 * Sections (names or numbers 1-6):
 *   1 train     one SASRec training epoch on the env's data (length-bucketed batches, as
 *               trainSupervised makes them), broken down by padded batch length; and the same
 *               model padding every batch to maxLen with random batches (first K batches, extrapolated);
 *               with model.gradientShards > 1, also one epoch of the unsharded model on one thread
 *   2 eval      full-ranking evaluation of every user on the validation target (median of repeats)
 *   3 ops       benchOps(): per-op time on a 256-user batch, target <= 2 ms for sequence/label ops
 *   4 recorder  Arrow IPC stream recorder: step rows written and read back per second
 *   5 monitor   publish cost per event, and a CPU-bound fake training loop with 0 vs N ws clients
 *   6 rl        RL env overhead (hook: skipped until src/env/index.ts exists)
 *
 * Each section runs on its own: one that throws records its error and the others still run.
 * Writes <out-dir>/<name>.json and .md after every section (status "running", then
 * "finished"); progress goes to stderr, the markdown to stdout at the end. Every section records
 * the load average before and after and its process CPU time, because on a 2-core machine a
 * background job inflates wall times (cpu_s well below wall_s means the process waited for a core).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import { bucketedTrainBatches } from "../src/data/bucketing.ts";
import { trainBatches } from "../src/data/batches.ts";
import type { LeaveOneOutSplit, TrainBatch } from "../src/data/types.ts";
import { loadEnvSpec, loadSpecData, type ResolvedEnvSpec } from "../src/env/spec.ts";
import { evaluate } from "../src/models/evaluate.ts";
import { EvalPool } from "../src/models/eval-pool.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { useTrainThreads } from "../src/models/train-pool.ts";
import { shardThreads } from "../src/models/helper-thread.ts";
import { parseThreads } from "../src/cli/options.ts";
import { MonitorServer } from "../src/monitor/server.ts";
import type { RunStartInfo } from "../src/record/hooks.ts";
import { ArrowStreamRecorder, makeStepRow, readArrowStream, stepSchema, type StepRow } from "../src/record/index.ts";
import { selectBackend, type BackendChoice, type BackendInfo } from "../src/tf/backend.ts";
import { benchOps } from "./ops.ts";
import { markdownTable, provenance, writeResult } from "./report.ts";
import {
  bucketBreakdown,
  extrapolateEpoch,
  fakeWork,
  loadSnapshot,
  mean,
  median,
  mdRows,
  paddedLength,
  parseSections,
  round,
  sum,
  type BatchTiming,
  type LoadSnapshot,
  type SectionId,
} from "./speed-lib.ts";

const { values: a } = parseArgs({
  allowNegative: true,
  options: {
    sections: { type: "string" },
    env: { type: "string", default: "envs/beauty-sasrec.json" },
    backend: { type: "string", default: "auto" },
    seed: { type: "string", default: "42" },
    "epochs-timed": { type: "string", default: "1" },
    "warmup-batches": { type: "string", default: "4" },
    /** Smoke tests only: time just the first N batches of the bucketed epoch (the result says so). */
    "train-batches": { type: "string" },
    "full-padding": { type: "boolean", default: true },
    "full-padding-batches": { type: "string", default: "10" },
    "train-threads": { type: "string", default: "auto" },
    unsharded: { type: "boolean", default: true },
    "eval-repeats": { type: "string", default: "3" },
    "recorder-rows": { type: "string", default: "20000" },
    "obs-dim": { type: "string", default: "30" },
    "monitor-clients": { type: "string", default: "10" },
    "monitor-events": { type: "string", default: "10000" },
    "monitor-steps": { type: "string", default: "2000" },
    "monitor-work": { type: "string", default: "500000" },
    "monitor-reps": { type: "string", default: "3" },
    name: { type: "string", default: "speed" },
    "out-dir": { type: "string", default: "bench/results" },
  },
});

function intArg(name: keyof typeof a, min = 1): number {
  const raw = a[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`\`--${name}\` must be an integer >= ${min}; got "${String(raw)}"`);
  return n;
}

const opts = {
  sections: parseSections(a.sections),
  env: a.env!,
  backend: a.backend as BackendChoice,
  seed: Number(a.seed),
  epochsTimed: intArg("epochs-timed"),
  warmupBatches: intArg("warmup-batches", 0),
  trainBatches: a["train-batches"] === undefined ? undefined : intArg("train-batches"),
  fullPadding: a["full-padding"]!,
  fullPaddingBatches: intArg("full-padding-batches"),
  trainThreads: parseThreads("--train-threads", a["train-threads"]),
  unsharded: a.unsharded!,
  evalRepeats: intArg("eval-repeats"),
  recorderRows: intArg("recorder-rows"),
  obsDim: intArg("obs-dim"),
  monitorClients: intArg("monitor-clients"),
  monitorEvents: intArg("monitor-events"),
  monitorSteps: intArg("monitor-steps"),
  monitorWork: intArg("monitor-work"),
  monitorReps: intArg("monitor-reps"),
};

const log = (line: string) => console.error(`[speed] ${line}`);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

// ---------------------------------------------------------------- shared, lazily built state

let backendP: Promise<BackendInfo> | undefined;
let backendInfo: BackendInfo | undefined;
const backend = () =>
  (backendP ??= selectBackend(opts.backend, (l) => log(l)).then((b) => (backendInfo = b)));

let specData: { spec: ResolvedEnvSpec; split: LeaveOneOutSplit } | undefined;
function data(): { spec: ResolvedEnvSpec; split: LeaveOneOutSplit } {
  if (!specData) {
    const spec = loadEnvSpec(opts.env);
    const t = performance.now();
    const { split } = loadSpecData(spec);
    log(`loaded ${spec.name}: ${split.train.length} users, ${split.dataset.numItems} items (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    specData = { spec, split };
  }
  return specData;
}

/** Mean trainStep ms per batch of the bucketed epoch, for the ops section's comparison. */
let trainMsPerBatch: number | undefined;

interface SectionOutput {
  json: Record<string, unknown>;
  md: string;
  skipped?: boolean;
}

// ---------------------------------------------------------------- 1. training epoch

async function benchTrain(): Promise<SectionOutput> {
  const info = await backend();
  const { spec, split } = data();
  const maxLen = spec.model.maxLen;
  const batchSize = spec.training.batchSize;
  const bucketed = spec.training.bucketBatches && spec.model.lengthBucketing;
  const make = bucketed ? bucketedTrainBatches : trainBatches;
  const root = new Rng(opts.seed);
  const shards = spec.model.gradientShards;
  const trainThreads = shardThreads(shards, useTrainThreads(opts.trainThreads, info.name, log));
  const model = new SASRec(spec.model, split.dataset.numItems, root.child("model"));
  log(`train: SASRec ${model.parameterCount} params, batch ${batchSize}, maxLen ${maxLen}, ${bucketed ? "length-bucketed" : "random"} batches, ${shards} gradient shard(s) on ${trainThreads} thread(s), backend ${info.name}`);

  // Warm-up: batches spread over the padded lengths of a separate epoch (the longest included,
  // so the wasm heap has grown to its epoch maximum before timing).
  const warm = make(split, { batchSize, maxLen, rng: root.child("warmup"), withTimes: false })
    .map((b) => ({ b, L: paddedLength(b.seqs, maxLen, spec.model.lengthBucketing) }))
    .sort((x, y) => x.L - y.L);
  const k = Math.min(opts.warmupBatches, warm.length);
  const warmIdx = k === 1 ? [warm.length - 1] : Array.from({ length: k }, (_, i) => Math.round((i * (warm.length - 1)) / (k - 1)));
  const tw = performance.now();
  for (const i of warmIdx) model.trainStep(warm[i]!.b);
  const warmupSeconds = (performance.now() - tw) / 1000;
  log(`train: warm-up ${k} batches (L = ${warmIdx.map((i) => warm[i]!.L).join(", ")}) in ${warmupSeconds.toFixed(1)} s`);

  const dataRng = root.child("batches");
  const timings: BatchTiming[] = [];
  const epochs: Array<{ epoch: number; seconds: number; train_step_seconds: number; batch_build_ms: number; batches: number; loss: number }> = [];
  const tensorsBefore = tf.memory().numTensors;
  let partial = false;
  for (let e = 1; e <= opts.epochsTimed; e++) {
    const te = performance.now();
    let batches: TrainBatch[] = make(split, { batchSize, maxLen, rng: dataRng, withTimes: false });
    const buildMs = performance.now() - te;
    if (opts.trainBatches !== undefined && opts.trainBatches < batches.length) {
      batches = batches.slice(0, opts.trainBatches);
      partial = true;
    }
    let lossSum = 0;
    let stepMs = 0;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const t = performance.now();
      lossSum += model.trainStep(b);
      const ms = performance.now() - t;
      stepMs += ms;
      timings.push({ L: paddedLength(b.seqs, maxLen, spec.model.lengthBucketing), size: b.seqs.length, ms });
      if ((i + 1) % 20 === 0 || i + 1 === batches.length) log(`train: epoch ${e} batch ${i + 1}/${batches.length} ${(stepMs / 1000).toFixed(1)} s`);
    }
    const seconds = (performance.now() - te) / 1000;
    epochs.push({ epoch: e, seconds: round(seconds, 2), train_step_seconds: round(stepMs / 1000, 2), batch_build_ms: round(buildMs, 1), batches: batches.length, loss: round(lossSum / batches.length) });
  }
  const tensorLeak = tf.memory().numTensors - tensorsBefore;
  const params = model.parameterCount;
  model.dispose();
  const secondsPerEpoch = mean(epochs.map((x) => x.seconds));
  trainMsPerBatch = mean(timings.map((t) => t.ms));
  const breakdown = bucketBreakdown(timings, maxLen, opts.epochsTimed);

  // Comparison point: no length bucketing, random batches, every batch padded to maxLen.
  let full: Record<string, unknown> | undefined;
  if (opts.fullPadding) {
    const fullModel = new SASRec({ ...spec.model, lengthBucketing: false }, split.dataset.numItems, new Rng(opts.seed).child("model"));
    const fb = trainBatches(split, { batchSize, maxLen, rng: root.child("batches-full"), withTimes: false });
    fullModel.trainStep(fb[fb.length - 1]!); // warm-up on a batch outside the timed ones
    const measured: number[] = [];
    const K = Math.min(opts.fullPaddingBatches, fb.length);
    for (let i = 0; i < K; i++) {
      const t = performance.now();
      fullModel.trainStep(fb[i]!);
      measured.push(performance.now() - t);
      log(`train: full padding batch ${i + 1}/${K} ${measured[i]!.toFixed(0)} ms`);
    }
    fullModel.dispose();
    const ext = extrapolateEpoch(measured, fb.length);
    full = {
      lengthBucketing: false,
      batches: "random (trainBatches), every batch padded to maxLen",
      batches_per_epoch: fb.length,
      measured_batches: K,
      ms_per_batch: round(mean(measured), 1),
      ms_per_batch_median: round(median(measured), 1),
      seconds_per_epoch: round(ext.seconds, 1),
      extrapolated: ext.extrapolated,
      note: ext.extrapolated
        ? `extrapolated: mean of the first ${K} batches x ${fb.length} batches (the last, smaller batch counted as a full one)`
        : "every batch of the epoch measured",
      bucketing_speedup: partial ? null : round(ext.seconds / secondsPerEpoch, 2),
    };
  }

  // Comparison point for sharded training: the unsharded model on this thread alone.
  let unsharded: { seconds: number; batches: number; speedup: number | null } | undefined;
  if (shards > 1 && opts.unsharded) {
    const one = new SASRec({ ...spec.model, gradientShards: 1 }, split.dataset.numItems, new Rng(opts.seed).child("model"));
    for (const i of warmIdx) one.trainStep(warm[i]!.b);
    let ub = make(split, { batchSize, maxLen, rng: root.child("batches-unsharded"), withTimes: false });
    if (opts.trainBatches !== undefined) ub = ub.slice(0, opts.trainBatches);
    const t = performance.now();
    ub.forEach((b, i) => {
      one.trainStep(b);
      if ((i + 1) % 20 === 0 || i + 1 === ub.length) log(`train: unsharded batch ${i + 1}/${ub.length} ${((performance.now() - t) / 1000).toFixed(1)} s`);
    });
    const seconds = (performance.now() - t) / 1000;
    one.dispose();
    unsharded = { seconds: round(seconds, 2), batches: ub.length, speedup: round(seconds / secondsPerEpoch, 2) };
  }

  const json = {
    dataset: split.dataset.name,
    users: split.train.length,
    gradient_shards: shards,
    train_threads: trainThreads,
    unsharded_one_thread: unsharded ?? (shards > 1 ? { skipped: "--no-unsharded" } : { skipped: "model.gradientShards is 1" }),
    items: split.dataset.numItems,
    params,
    batch_size: batchSize,
    max_len: maxLen,
    batching: bucketed ? "length-bucketed (bucketedTrainBatches), each batch padded to its longest sequence" : "random (trainBatches)",
    warmup: { batches: k, padded_lengths: warmIdx.map((i) => warm[i]!.L), seconds: round(warmupSeconds, 2) },
    partial_epoch: partial ? `only the first ${opts.trainBatches} batches timed (--train-batches): not a whole epoch` : false,
    epochs_timed: opts.epochsTimed,
    seconds_per_epoch: round(secondsPerEpoch, 2),
    batches_per_epoch: epochs[0]!.batches,
    ms_per_batch: round(trainMsPerBatch, 1),
    epochs,
    by_padded_length: breakdown,
    tensor_leak_per_epoch: tensorLeak / opts.epochsTimed,
    full_padding: full ?? { skipped: "--no-full-padding" },
  };
  const md = [
    `Seconds per epoch: **${secondsPerEpoch.toFixed(1)} s** (${epochs[0]!.batches} batches of ${batchSize}, ${json.batching}; ${shards} gradient shard(s) on ${trainThreads} thread(s); ${opts.epochsTimed} epoch(s) timed after ${k} warm-up batches${partial ? "; PARTIAL epoch, --train-batches" : ""}).`,
    ...(unsharded ? ["", `Unsharded model (gradientShards 1) on one thread: ${unsharded.seconds} s for ${unsharded.batches} batches; sharding on ${trainThreads} threads is ${unsharded.speedup}x faster.`] : []),
    "",
    markdownTable(mdRows(breakdown.map((r) => ({ "padded length": r.bucket, batches: r.batches, samples: r.samples, "mean L": r.mean_L, "ms/batch": r.ms_per_batch, seconds: r.seconds, "share %": r.share_pct })))),
    "",
    full
      ? `Without length bucketing (random batches padded to ${maxLen}): ${full.ms_per_batch} ms/batch → ${full.seconds_per_epoch} s/epoch` +
        ` (${full.extrapolated ? `extrapolated from the first ${full.measured_batches} batches` : "measured"})` +
        (full.bucketing_speedup ? `; bucketing is ${full.bucketing_speedup}x faster.` : ".")
      : "Full-padding comparison skipped (--no-full-padding).",
  ].join("\n");
  return { json, md };
}

// ---------------------------------------------------------------- 2. full-ranking evaluation

async function benchEval(): Promise<SectionOutput> {
  const b = await backend();
  const { spec, split } = data();
  const model = new SASRec(spec.model, split.dataset.numItems, new Rng(opts.seed).child("model"));
  // Warm-up on the 2048 longest histories (the widest chunks), untimed.
  const longest = Int32Array.from(split.train.keys()).sort((x, y) => split.train[y]!.length - split.train[x]!.length).subarray(0, 2048);
  const pools: Array<{ threads: number; runner: EvalPool | null }> = [{ threads: 1, runner: null }];
  const cores = Math.min(4, os.availableParallelism());
  if (cores > 1 && (b.name === "wasm" || b.name === "cpu")) pools.push({ threads: cores, runner: new EvalPool({ threads: cores, backend: b.name }) });
  const perThreads: Array<{ threads: number; seconds_median: number; seconds_runs: number[]; users_per_second: number }> = [];
  let users = 0;
  let ndcg = NaN;
  let reference: Int32Array | undefined;
  let identical = true;
  for (const { threads, runner } of pools) {
    evaluate(model, split, "valid", { users: longest, runner });
    const runs: number[] = [];
    for (let r = 0; r < opts.evalRepeats; r++) {
      const t = performance.now();
      const res = evaluate(model, split, "valid", { runner });
      runs.push((performance.now() - t) / 1000);
      users = res.protocol.usersEvaluated;
      ndcg = res.metrics["NDCG@10"]!;
      if (!reference) reference = res.ranks;
      else identical &&= res.ranks.every((x, i) => x === reference![i]);
      log(`eval (${threads} thread${threads > 1 ? "s" : ""}): run ${r + 1}/${opts.evalRepeats} ${runs[r]!.toFixed(2)} s (${users} users)`);
    }
    await runner?.close();
    const sec = median(runs);
    perThreads.push({ threads, seconds_median: round(sec, 2), seconds_runs: runs.map((x) => round(x, 2)), users_per_second: Math.round(users / sec) });
  }
  model.dispose();
  const best = perThreads.at(-1)!;
  const json = {
    call: 'evaluate(model, split, "valid")',
    ranking: "full (every item scored, history items excluded)",
    users_evaluated: users,
    items: split.dataset.numItems,
    repeats: opts.evalRepeats,
    // Headline: the default (`--eval-threads auto`, the machine's cores).
    threads: best.threads,
    seconds_median: best.seconds_median,
    seconds_runs: best.seconds_runs,
    users_per_second: best.users_per_second,
    by_threads: perThreads,
    ranks_identical_across_threads: identical,
    model: "freshly initialised (scoring cost does not depend on the weights)",
    valid_ndcg10_untrained: round(ndcg, 5),
  };
  const md = perThreads.map((p) =>
    `Full-ranking validation of ${users} users on ${p.threads} thread${p.threads > 1 ? "s" : ""}: **${p.seconds_median.toFixed(2)} s** (median of ${opts.evalRepeats}: ${p.seconds_runs.map((x) => x.toFixed(2)).join(", ")} s), ${p.users_per_second} users/s.`,
  ).join("\n") + (perThreads.length > 1 ? `\nRanks identical across thread counts: ${identical}.` : "");
  return { json, md };
}

// ---------------------------------------------------------------- 3. augmentation ops

async function benchAugOps(): Promise<SectionOutput> {
  let ctxMs = 0;
  const rows = await benchOps({ onContext: (ms) => (ctxMs = ms) });
  const table = rows.map((r) => {
    const hasTarget = r.family === "sequence" || r.family === "label";
    return {
      op: r.op,
      family: r.family,
      ms: round(r.ms, 3),
      target: hasTarget ? (r.ms <= 2 ? "pass" : "MISS") : "n/a",
      ...(trainMsPerBatch ? { "% of train step": round((100 * r.ms) / trainMsPerBatch, 3) } : {}),
    };
  });
  const misses = table.filter((r) => r.target === "MISS").map((r) => r.op);
  const json = {
    batch: "first seeded 256-user Beauty batch, max len 50 (bench/ops.ts beautyBatch)",
    magnitude: 0.5,
    timing: "median of 101 runs after 200 warm-up runs per op",
    target: "<= 2 ms per sequence/label op",
    op_context_ms: round(ctxMs, 1),
    train_ms_per_batch: trainMsPerBatch ? round(trainMsPerBatch, 1) : null,
    misses,
    rows: table,
  };
  const md = [
    `Op context build (co-occurrence, popularity, title vocabulary): ${ctxMs.toFixed(0)} ms once. Target ≤ 2 ms per sequence/label op: ${misses.length ? `MISSED by ${misses.join(", ")}` : "all pass"}.`,
    "",
    markdownTable(mdRows(table)),
  ].join("\n");
  return { json, md };
}

// ---------------------------------------------------------------- 4. Arrow recorder

/** `n` step rows like the env would write, with `dim`-float observations (seeded). */
function makeRows(n: number, dim: number, runId: string, rng: Rng): StepRow[] {
  const ops = ["identity", "crop", "mask", "reorder", "substitute", "insert", "item-dropout"];
  const mags = [0.1, 0.2, 0.3, 0.5];
  return Array.from({ length: n }, (_, i) => {
    const op = rng.pick(ops);
    const evalNow = i % 8 === 7;
    return makeStepRow({
      run_id: runId,
      episode: Math.floor(i / 100),
      step: i % 100,
      ops: op === "identity" ? [] : [op],
      magnitudes: op === "identity" ? [] : [rng.pick(mags)],
      reward: evalNow ? rng.normal(0, 0.1) : null,
      train_loss: 1 + rng.random(),
      valid_ndcg10: evalNow ? 0.02 + 0.01 * rng.random() : null,
      valid_hr10: evalNow ? 0.05 + 0.01 * rng.random() : null,
      observation: Array.from({ length: dim }, () => rng.normal()),
      log_prob: -Math.log(28) + 0.1 * rng.normal(),
      value: rng.normal(),
      wall_ms: i * 150,
    });
  });
}

async function benchRecorder(): Promise<SectionOutput> {
  const n = opts.recorderRows;
  const dim = opts.obsDim;
  const rows = makeRows(n, dim, "bench-recorder", new Rng(opts.seed).child("recorder"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-speed-"));
  const configs: Array<{ label: string; rowsPerBatch?: number; fsync: boolean }> = [
    { label: "default (64 rows/batch, fsync)", fsync: true },
    { label: "RunRecorder steps (16 rows/batch, fsync)", rowsPerBatch: 16, fsync: true },
    { label: "64 rows/batch, no fsync", rowsPerBatch: 64, fsync: false },
  ];
  const results: Array<Record<string, string | number>> = [];
  try {
    for (const [ci, c] of configs.entries()) {
      const file = path.join(dir, `steps-${ci}.arrows`);
      const appendUs: number[] = [];
      const t0 = performance.now();
      const rec = ArrowStreamRecorder.create<StepRow>(file, stepSchema(dim), { ...(c.rowsPerBatch ? { rowsPerBatch: c.rowsPerBatch } : {}), fsync: c.fsync });
      for (const row of rows) {
        const t = performance.now();
        rec.append(row);
        appendUs.push((performance.now() - t) * 1000);
      }
      rec.close();
      const writeS = (performance.now() - t0) / 1000;
      const bytes = fs.statSync(file).size;
      const tr = performance.now();
      const back = readArrowStream<StepRow>(file);
      const readS = (performance.now() - tr) / 1000;
      if (back.rows.length !== n || !back.complete) throw new Error(`read back ${back.rows.length} of ${n} rows (complete: ${back.complete}) from ${file}`);
      const sorted = [...appendUs].sort((x, y) => x - y);
      results.push({
        config: c.label,
        rows_per_batch: rec.rowsPerBatch,
        write_rows_per_s: Math.round(n / writeS),
        read_rows_per_s: Math.round(n / readS),
        append_us_median: round(median(appendUs), 1),
        append_us_p99: round(sorted[Math.floor(0.99 * (n - 1))]!, 1),
        flush_ms_max: round(sorted[n - 1]! / 1000, 2),
        bytes_per_row: round(bytes / n, 1),
      });
      log(`recorder: ${c.label}: write ${results.at(-1)!.write_rows_per_s} rows/s, read ${results.at(-1)!.read_rows_per_s} rows/s`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const json = {
    rows: n,
    observation_dim: dim,
    file: "os.tmpdir() (removed afterwards)",
    write: "ArrowStreamRecorder.create + append every row + close (rows built beforehand)",
    read: "readArrowStream(path): decode every batch to row objects",
    results,
  };
  const md = [`${n} step rows with ${dim}-float observations:`, "", markdownTable(mdRows(results))].join("\n");
  return { json, md };
}

// ---------------------------------------------------------------- 5. monitor overhead

/** The ws client child process, driven line by line. */
class ClientsProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ event: string; resolve: (msg: Record<string, unknown>) => void }> = [];
  private exited = false;

  constructor(url: string, n: number) {
    this.child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./speed-clients.ts", import.meta.url)), url, String(n)], { cwd: ROOT });
    this.child.stderr.on("data", (d) => process.stderr.write(`[speed-clients] ${d}`));
    this.child.on("exit", () => (this.exited = true));
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === "error") log(`monitor client error: ${String(msg.message)}`);
      const i = this.waiting.findIndex((w) => w.event === msg.event);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(msg);
    });
  }

  request(cmd: string, event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`ws client process exited before \`${cmd}\``));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ws client process: no \`${event}\` reply to \`${cmd}\` within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({ event, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      this.child.stdin.write(cmd + "\n");
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.write("exit\n");
    const timer = setTimeout(() => this.child.kill(), 5000);
    await done;
    clearTimeout(timer);
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function benchMonitor(): Promise<SectionOutput> {
  const nClients = opts.monitorClients;
  const dim = opts.obsDim;
  const server = await MonitorServer.start({ port: 0, host: "127.0.0.1" });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const clients = new ClientsProcess(url, nClients);
  const rng = new Rng(opts.seed).child("monitor");
  let runNo = 0;
  const newRun = (): string => {
    const info: RunStartInfo = {
      run_id: `bench-monitor-${++runNo}`,
      observation_dim: dim,
      op_names: ["identity", "crop", "mask", "reorder", "substitute", "insert", "item-dropout"],
      config: { benchmark: "speed/monitor" },
      started_at: new Date().toISOString(),
    };
    server.onRunStart(info); // live mode: clears the event log, so each phase starts empty
    return info.run_id;
  };
  const subscribed = () => server.stats().clients.filter((c) => c.subscribed).length;
  const connect = async () => {
    await clients.request("connect", "connected");
    for (let i = 0; i < 500 && subscribed() < nClients; i++) await sleep(10);
  };
  const disconnect = async () => {
    await clients.request("disconnect", "disconnected");
    for (let i = 0; i < 500 && server.stats().clients.length > 0; i++) await sleep(10);
  };
  /** Wait until every client has received (or been told it skipped) `expected` step events. */
  const delivered = async (expected: number, timeoutMs = 120_000): Promise<{ steps: number[]; dropped: number[] }> => {
    const t = performance.now();
    for (;;) {
      const r = (await clients.request("report", "report")) as unknown as { steps: number[]; dropped: number[] };
      if (r.steps.every((s, i) => s + r.dropped[i]! >= expected)) return r;
      if (performance.now() - t > timeoutMs) throw new Error(`monitor: clients got ${r.steps.join(",")} of ${expected} step events after ${timeoutMs} ms`);
      await sleep(20);
    }
  };

  try {
    // (a) publish cost: a burst of pre-built step rows, 0 vs N clients.
    const N = opts.monitorEvents;
    // Untimed warm-up burst so the JIT has compiled publish (JSON.stringify of a row, log push).
    newRun();
    for (const row of makeRows(Math.min(N, 2000), dim, "warm-up", rng)) server.publish({ kind: "step", row });
    await tick();
    const publishRuns: Array<Record<string, string | number>> = [];
    for (const withClients of [false, true]) {
      const runId = newRun();
      const rows = makeRows(N, dim, runId, rng);
      if (withClients) await connect();
      const t0 = performance.now();
      for (const row of rows) server.publish({ kind: "step", row });
      const publishMs = performance.now() - t0;
      let deliverMs = 0;
      let dropped = 0;
      if (withClients) {
        const r = await delivered(N);
        deliverMs = performance.now() - t0;
        dropped = Math.max(...r.dropped);
        await disconnect();
      } else await tick();
      publishRuns.push({
        clients: withClients ? nClients : 0,
        events: N,
        publish_us_per_event: round((publishMs * 1000) / N, 2),
        delivered_all_ms: withClients ? round(deliverMs, 0) : "n/a",
        max_dropped_per_client: dropped,
      });
      log(`monitor: publish ${N} events with ${withClients ? nClients : 0} clients: ${publishRuns.at(-1)!.publish_us_per_event} µs/event`);
    }

    // (b) a CPU-bound fake training loop that publishes a step row after every step and yields
    // to the event loop (so the monitor sends while training runs); 0 and N clients alternate.
    const S = opts.monitorSteps;
    const loops: Array<{ clients: number; wall_s: number; cpu_s: number; ms_per_step: number; min_received: number; max_dropped: number }> = [];
    let sink = 0;
    for (let rep = 0; rep < opts.monitorReps; rep++) {
      for (const withClients of [false, true]) {
        const runId = newRun();
        if (withClients) await connect();
        const obs = Array.from({ length: dim }, () => rng.normal());
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < S; i++) {
          const loss = fakeWork(opts.monitorWork, i);
          sink += loss;
          server.publish({
            kind: "step",
            row: makeStepRow({ run_id: runId, episode: 0, step: i, ops: ["crop"], magnitudes: [0.2], train_loss: loss, observation: obs, wall_ms: performance.now() - t0 }),
          });
          await tick();
        }
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        let minReceived = S;
        let maxDropped = 0;
        if (withClients) {
          const r = await delivered(S);
          minReceived = Math.min(...r.steps);
          maxDropped = Math.max(...r.dropped);
          await disconnect();
        }
        loops.push({ clients: withClients ? nClients : 0, wall_s: round(wall, 3), cpu_s: round((cpu.user + cpu.system) / 1e6, 3), ms_per_step: round((wall * 1000) / S, 3), min_received: minReceived, max_dropped: maxDropped });
        log(`monitor: fake loop rep ${rep + 1} with ${withClients ? nClients : 0} clients: ${wall.toFixed(2)} s`);
      }
    }
    const wall0 = median(loops.filter((l) => l.clients === 0).map((l) => l.wall_s));
    const wallN = median(loops.filter((l) => l.clients > 0).map((l) => l.wall_s));
    const cpu0 = median(loops.filter((l) => l.clients === 0).map((l) => l.cpu_s));
    const cpuN = median(loops.filter((l) => l.clients > 0).map((l) => l.cpu_s));
    // Each rep runs 0 then N clients back to back: the paired ratio cancels slow drifts of the
    // background load better than the ratio of medians.
    const paired = loops.flatMap((l, i) => (l.clients > 0 ? [round(l.wall_s / loops[i - 1]!.wall_s, 3)] : []));
    const json = {
      clients: nClients,
      client_process: "a separate node process (bench/speed-clients.ts) that parses every message, as a browser tab would; on this machine it competes for the same 2 cores",
      publish: publishRuns,
      fake_loop: {
        steps: S,
        work_per_step: `fakeWork(${opts.monitorWork}) floating-point iterations`,
        publish: "one step row per step, then setImmediate (the monitor sends between steps)",
        reps: opts.monitorReps,
        runs: loops,
        wall_s_median_0_clients: wall0,
        wall_s_median_n_clients: wallN,
        wall_ratio: round(wallN / wall0, 3),
        paired_wall_ratios: paired,
        paired_wall_ratio_median: round(median(paired), 3),
        extra_cpu_ms_per_step: round(((cpuN - cpu0) * 1000) / S, 3),
        cpu_s_median_0_clients: cpu0,
        cpu_s_median_n_clients: cpuN,
        cpu_ratio: round(cpuN / cpu0, 3),
        note: `${round((wall0 * 1000) / S, 2)} ms per step is a stress case: an RL step trains at least one batch (tens to hundreds of ms), so the relative overhead there is smaller`,
        checksum: round(sink % 1000, 3),
      },
    };
    const md = [
      `Publish cost (burst of ${N} step events, ${dim}-float observations):`,
      "",
      markdownTable(mdRows(publishRuns)),
      "",
      `Fake CPU-bound training loop, ${S} steps of ${json.fake_loop.work_per_step}, publish + yield after each step, median of ${opts.monitorReps}: ` +
        `0 clients ${wall0.toFixed(2)} s, ${nClients} clients ${wallN.toFixed(2)} s → **wall ratio ${json.fake_loop.wall_ratio}** ` +
        `(paired per rep: ${paired.join(", ")}; median ${json.fake_loop.paired_wall_ratio_median}). ` +
        `Training-process CPU ratio ${json.fake_loop.cpu_ratio}, i.e. about ${json.fake_loop.extra_cpu_ms_per_step} ms more CPU per published step for sending to ${nClients} clients. ` +
        `The publish burst shows backpressure: a client more than 512 events behind skips step events (counted in \`dropped\`).`,
    ].join("\n");
    return { json, md };
  } finally {
    await clients.close();
    await server.close();
  }
}

// ---------------------------------------------------------------- 6. RL overhead

/**
 * RL overhead: the same training budget (one epoch of the env spec's batches) run
 * (a) as plain training (`trainStep` over the epoch's bucketed batches, no evaluation),
 * (b) as an `rl-train run` episode with the `none` agent (the env still evaluates the reward
 *     subset after every step and records every step), and
 * (c, d) as episodes with the `reinforce` and `ppo` agents.
 * Episode time is the last step's `wall_ms` (from run start to the end of the budget: data and
 * env set-up, training, reward evaluations, agent updates, recording), so the final full
 * validation/test evaluation, which every run ends with, is left out.
 */
export async function benchRlOverhead(): Promise<SectionOutput> {
  const { runExperiment } = await import("../src/cli/experiment.ts");
  const spec = loadEnvSpec(opts.env);
  const { split } = loadSpecData(spec);
  const info = await backend();
  if (spec.model.gradientShards > 1) useTrainThreads(opts.trainThreads, info.name, log);
  const model = new SASRec(spec.model, split.dataset.numItems, new Rng(1).child("model"));
  const batches = bucketedTrainBatches(split, { batchSize: spec.training.batchSize, maxLen: spec.model.maxLen, rng: new Rng(1).child("batches") });
  // Untimed warm-up (thread pools started, kernels and heap at their epoch sizes), as in the train section.
  for (const b of [...batches].sort((x, y) => x.seqs[0]!.length - y.seqs[0]!.length).filter((_, i, xs) => i % Math.ceil(xs.length / 4) === 0)) model.trainStep(b);
  let t = performance.now();
  for (const b of batches) model.trainStep(b);
  const plainS = (performance.now() - t) / 1000;
  model.dispose();
  console.error(`[speed] rl: plain epoch ${plainS.toFixed(1)} s`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-rl-overhead-"));
  const episode = async (agent: string) => {
    const r = await runExperiment({ env: opts.env, agent: `policies/${agent}.json`, episodes: 1, seed: 1, out, runId: agent, backend: opts.backend, budgetEpochs: 1, checkpointEvery: 0, log: null });
    const rows = readArrowStream<{ wall_ms: number }>(path.join(r.runDir, "steps.arrows")).rows;
    const s = rows.at(-1)!.wall_ms / 1000;
    console.error(`[speed] rl: ${agent} episode ${s.toFixed(1)} s (${rows.length} steps)`);
    return { seconds: s, steps: rows.length };
  };
  // An untimed short episode first: the first one in a process pays one-off costs (evaluation
  // threads starting, kernels for the reward subset's shapes) that would be charged to `none`.
  await runExperiment({ env: opts.env, agent: "policies/none.json", episodes: 1, seed: 2, out, runId: "warm-up", backend: opts.backend, budgetEpochs: 0.2, checkpointEvery: 0, log: null });
  const none = await episode("none");
  const reinforce = await episode("reinforce");
  const ppo = await episode("ppo");
  const json = {
    budget: `1 epoch (${batches.length} batches of ${spec.training.batchSize}), ${spec.rl.batchesPerStep} batches per step, reward on ${spec.rl.reward.validUsers} validation users every ${spec.rl.reward.evalEvery} step(s)`,
    plain_training_s: round(plainS, 2),
    none_episode_s: round(none.seconds, 2),
    reinforce_episode_s: round(reinforce.seconds, 2),
    ppo_episode_s: round(ppo.seconds, 2),
    steps: none.steps,
    reinforce_over_none: round(reinforce.seconds / none.seconds, 3),
    ppo_over_none: round(ppo.seconds / none.seconds, 3),
    reinforce_over_plain: round(reinforce.seconds / plainS, 3),
    ppo_over_plain: round(ppo.seconds / plainS, 3),
    none_over_plain: round(none.seconds / plainS, 3),
  };
  fs.rmSync(out, { recursive: true, force: true });
  const md = [
    `Budget: ${json.budget}. Episode time excludes the final full evaluation.`,
    "",
    markdownTable([
      { run: "plain training (no RL, no evaluation)", seconds: json.plain_training_s, "× plain": 1 },
      { run: "episode, none agent (reward evals + logging)", seconds: json.none_episode_s, "× plain": json.none_over_plain },
      { run: "episode, reinforce", seconds: json.reinforce_episode_s, "× plain": json.reinforce_over_plain },
      { run: "episode, ppo", seconds: json.ppo_episode_s, "× plain": json.ppo_over_plain },
    ]),
    "",
    `reinforce ÷ none = ${json.reinforce_over_none}, ppo ÷ none = ${json.ppo_over_none}.`,
  ].join("\n");
  return { json, md };
}

// ---------------------------------------------------------------- runner

const SECTIONS: Record<SectionId, { title: string; run: () => Promise<SectionOutput> }> = {
  train: { title: "1. SASRec training epoch", run: benchTrain },
  eval: { title: "2. Full-ranking evaluation", run: benchEval },
  ops: { title: "3. Augmentation op time per batch", run: benchAugOps },
  recorder: { title: "4. Arrow recorder throughput", run: benchRecorder },
  monitor: { title: "5. Monitor overhead", run: benchMonitor },
  rl: { title: "6. RL overhead", run: benchRlOverhead },
};

interface SectionRecord {
  title: string;
  status: "ok" | "error" | "skipped";
  wall_s: number;
  /** Process CPU seconds (user + system) during the section; well below wall_s means it waited for a core. */
  cpu_s: number;
  load_before: LoadSnapshot;
  load_after: LoadSnapshot;
  error?: string;
  result?: Record<string, unknown>;
}

const prov = provenance();
const loadStart = loadSnapshot();
const result = {
  benchmark: "speed",
  status: "running" as "running" | "finished",
  provenance: prov,
  backend: null as BackendInfo | null,
  load: {
    start: loadStart,
    end: null as LoadSnapshot | null,
    note: "os.loadavg() on a machine with `cpus` cores: above ~1 while this single-threaded benchmark runs means another job competed for the CPU and wall times are inflated",
  },
  options: { ...opts, env: path.relative(ROOT, path.resolve(opts.env)) },
  reference: "DESIGN.md (not measured here): the S3-Rec authors' PyTorch SASRec, torch 1.13 with 2 threads on this kind of machine, quiet: ~30 s per training epoch, 13–16 s per full-ranking evaluation",
  sections: {} as Partial<Record<SectionId, SectionRecord>>,
};
const mdParts: Record<string, string> = {};

function markdown(): string {
  const l = result.load;
  const head = [
    `# Speed benchmark (${result.status})`,
    "",
    `${prov.machine}, ${prov.memoryGiB} GiB, Node ${prov.node}; commit ${prov.commit}${prov.dirty ? " (dirty)" : ""}; ${prov.date}.`,
    `Command: \`${prov.command}\``,
    `TF backend: ${result.backend ? `${result.backend.name} (${result.backend.tfName}${Object.keys(result.backend.details).length ? ", " + Object.entries(result.backend.details).map(([k, v]) => `${k} ${v}`).join(", ") : ""})` : "not used"}.`,
    `Load average (1/5/15 min, ${l.start.cpus} cores): ${l.start.loadavg.join(" / ")} at start${l.end ? `, ${l.end.loadavg.join(" / ")} at end` : ""}.`,
    "",
  ];
  const body = opts.sections.flatMap((id) => {
    const s = result.sections[id];
    if (!s) return [];
    const where = `_${s.status}, ${s.wall_s.toFixed(1)} s wall, ${s.cpu_s.toFixed(1)} s CPU, load ${s.load_before.loadavg[0]} → ${s.load_after.loadavg[0]}_`;
    return [`## ${s.title}`, "", where, "", s.status === "error" ? `**Error:** ${s.error}` : mdParts[id]!, ""];
  });
  return [...head, ...body, `Reference (${result.reference}).`].join("\n");
}

function save(): void {
  result.backend = backendInfo ?? null;
  writeResult(a.name!, result, markdown(), a["out-dir"]!);
}

log(`sections: ${opts.sections.join(", ")}; load average ${loadStart.loadavg.join(" / ")} on ${loadStart.cpus} cores`);
for (const id of opts.sections) {
  const s = SECTIONS[id];
  log(`── ${s.title}`);
  const before = loadSnapshot();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rec: Omit<SectionRecord, "wall_s" | "cpu_s" | "load_after">;
  try {
    const out = await s.run();
    mdParts[id] = out.md;
    rec = { title: s.title, status: out.skipped ? "skipped" : "ok", load_before: before, result: out.json };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    log(`${id} FAILED: ${e.stack ?? e.message}`);
    rec = { title: s.title, status: "error", load_before: before, error: e.message };
  }
  const cpu = process.cpuUsage(cpu0);
  result.sections[id] = { ...rec, wall_s: round((performance.now() - t0) / 1000, 2), cpu_s: round((cpu.user + cpu.system) / 1e6, 2), load_after: loadSnapshot() };
  save();
}
result.status = "finished";
result.load.end = loadSnapshot();
save();
log(`wrote ${path.join(a["out-dir"]!, a.name! + ".json")} and .md`);
process.stdout.write(markdown() + "\n");
const failed = opts.sections.filter((id) => result.sections[id]?.status === "error");
if (failed.length) {
  log(`sections that failed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
