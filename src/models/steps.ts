/**
 * Training steps: plain (one gradient over the batch) and sharded (the batch cut into
 * `gradientShards` row ranges whose gradients are summed before one Adam step, possibly computed
 * on helper threads).
 *
 * Sharded steps: each shard's loss is divided by the whole batch's denominator, so the shard
 * gradients add up to the batch's gradient up to float rounding; each shard draws its dropout
 * from its own seed, and the caller sums the gradients in shard order. Which thread computes a
 * shard changes nothing: the weights depend on the shard count, never on the thread count.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../core/rng.ts";
import { selectSamples } from "../data/batches.ts";
import type { TrainBatch } from "../data/types.ts";
import type { ContrastiveJob } from "./contrastive.ts";
import type { TrainArrays } from "./negatives.ts";
import type { SASRec } from "./sasrec.ts";

/** Everything a thread needs to compute one shard's gradients (plain arrays: it can be posted). */
export interface ShardJob extends TrainArrays {
  /** The whole batch's loss denominator, so shard losses (and gradients) add up to the batch's. */
  lossDenominator: number;
  labelSmoothing: number;
  /** Seed of the shard's own dropout stream. */
  dropoutSeed: number;
}

/** One shard's loss and one gradient per variable (variable order), as tensors of the calling thread. */
export interface ShardResult {
  loss: number;
  grads: tf.Tensor[];
}

/**
 * Computes the gradients of a step's shards, possibly on other threads. It must return exactly
 * what the in-thread protocol (`inThreadShards`) returns for each job, so weights never depend
 * on the threads.
 */
export interface ShardRunner {
  /** Plain shards: `model.shardGradients(job)` for each job. */
  run(model: SASRec, jobs: ShardJob[]): ShardResult[];
  /**
   * Contrastive shards by gradient caching (contrastive.ts): `model.contrastiveReps(job)` for
   * every job, then `grad(reps)` on the calling thread, then `model.contrastiveShardGradients(job, g)`.
   */
  runContrastive(model: SASRec, jobs: ContrastiveJob[], grad: (reps: Float32Array[]) => Float32Array[]): ShardResult[];
}

/** Shards computed one after the other on the calling thread. */
export const inThreadShards: ShardRunner = {
  run: (model, jobs) => jobs.map((job) => model.shardGradients(job)),
  runContrastive: (model, jobs, grad) => {
    const g = grad(jobs.map((job) => model.contrastiveReps(job)));
    return jobs.map((job, i) => model.contrastiveShardGradients(job, g[i]!));
  },
};

/** What the steps need from a model (SASRec gives them; not part of its public API). */
export interface StepHost {
  readonly gradientShards: number;
  /** Padded arrays of a batch, drawing its negatives (BCE, sampled softmax, gBCE) from the model's stream. */
  trainArrays(batch: TrainBatch): TrainArrays;
  /** A fresh seed from the model's dropout stream. */
  dropoutSeed(): number;
  /** The recommendation loss of `arrays` in training mode, dropout from `dropout` (default: the model's own stream). */
  loss(arrays: TrainArrays, labelSmoothing: number, dropout?: Rng): tf.Scalar;
  minimize(f: () => tf.Scalar): number;
  applyGradients(grads: readonly tf.Tensor[]): void;
  variables(): tf.Variable[];
}

/** One optimisation step on the whole batch; returns its loss. */
export function plainStep(host: StepHost, batch: TrainBatch): number {
  const arrays = host.trainArrays(batch);
  const eps = batch.labelSmoothing ?? 0;
  return host.minimize(() => host.loss(arrays, eps));
}

/** Row ranges of `n` contiguous shards of `B` rows (the first ones one row shorter when B % n > 0). */
export function shardRows(B: number, n: number): number[][] {
  const start = (i: number) => Math.floor((i * B) / n);
  return Array.from({ length: n }, (_, i) => Array.from({ length: start(i + 1) - start(i) }, (_, k) => start(i) + k));
}

/**
 * `plainStep` with the batch cut into `gradientShards` contiguous row ranges. Negatives are
 * drawn row by row in batch order, as unsharded; each shard is padded to its own longest row
 * (scores do not depend on padding); the gradients are summed in shard order.
 */
export function shardedStep(host: StepHost, batch: TrainBatch, run: (jobs: ShardJob[]) => ShardResult[]): number {
  const B = batch.seqs.length;
  const parts = shardRows(B, Math.min(host.gradientShards, B)).map((rows) => host.trainArrays(selectSamples(batch, rows)));
  const lossDenominator = batch.lossDenominator ?? Math.max(parts.reduce((sum, a) => a.weights.reduce((s, w) => s + w, sum), 0), 1);
  const labelSmoothing = batch.labelSmoothing ?? 0;
  const jobs: ShardJob[] = parts.map((a) => ({ ...a, lossDenominator, labelSmoothing, dropoutSeed: host.dropoutSeed() }));
  const results = run(jobs);
  applySummed(host, results.map((r) => r.grads));
  for (const r of results) for (const g of r.grads) g.dispose();
  return results.reduce((sum, r) => sum + r.loss, 0);
}

/** Loss and gradients (variable order) of one shard, without updating anything. */
export function shardGradients(host: StepHost, job: ShardJob): ShardResult {
  const varList = host.variables();
  const dropout = new Rng(job.dropoutSeed, "shard-dropout");
  const { value, grads } = tf.variableGrads(() => host.loss(job, job.labelSmoothing, dropout), varList);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads: varList.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/**
 * Sum per-shard gradients in shard order and take one Adam step; the sums are disposed here,
 * the caller keeps (and disposes) the per-shard inputs. Plain and contrastive sharded steps both
 * end with it.
 */
export function applySummed(host: Pick<StepHost, "applyGradients">, perShard: readonly (readonly tf.Tensor[])[]): void {
  const total = tf.tidy(() => perShard[0]!.map((g, v) => perShard.slice(1).reduce((sum, r) => tf.add(sum, r[v]!), g)));
  host.applyGradients(total);
  for (const t of total) t.dispose();
}
