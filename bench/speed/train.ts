/**
 * Section 1, `train`: one SASRec training epoch on the env's data (length-bucketed batches, as
 * trainSupervised makes them), broken down by padded batch length; the same model padding every
 * batch to maxLen with random batches (first K batches, extrapolated); and with
 * model.gradientShards > 1, one epoch of the unsharded model on one thread.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/core/rng.ts";
import { bucketedTrainBatches } from "../../src/data/bucketing.ts";
import { trainBatches } from "../../src/data/batches.ts";
import type { TrainBatch } from "../../src/data/types.ts";
import { shardThreads } from "../../src/models/helper-thread.ts";
import { SASRec } from "../../src/models/sasrec.ts";
import { createTrainPool } from "../../src/models/train-pool.ts";
import { markdownTable } from "../report.ts";
import { bucketBreakdown, extrapolateEpoch, mdRows, mean, median, paddedLength, round, type BatchTiming } from "../speed-lib.ts";
import type { SectionOutput, SpeedContext } from "./context.ts";

export async function benchTrain(ctx: SpeedContext): Promise<SectionOutput> {
  const { opts, log } = ctx;
  const info = await ctx.backend();
  const { spec, split } = ctx.data();
  const maxLen = spec.model.maxLen;
  const batchSize = spec.training.batchSize;
  const bucketed = spec.training.bucketBatches && spec.model.lengthBucketing;
  const make = bucketed ? bucketedTrainBatches : trainBatches;
  const root = new Rng(opts.seed);
  const shards = spec.model.gradientShards;
  const trainPool = createTrainPool(opts.trainThreads, info.name, log);
  const trainThreads = shardThreads(shards, trainPool.threads);
  const model = new SASRec(spec.model, split.dataset.numItems, root.child("model"), { shardRunner: trainPool });
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
  ctx.trainMsPerBatch = mean(timings.map((t) => t.ms));
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

  await trainPool.close();
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
    ms_per_batch: round(ctx.trainMsPerBatch, 1),
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
