/**
 * Contrastive training step: the recommendation loss plus λ × InfoNCE between two views of each
 * user in the batch (CL4SRec, Xie et al., ICDE 2022; CoSeRec, Liu et al. 2021; DuoRec, Qiu et
 * al., WSDM 2022).
 *
 * A view is either the recommendation pass's own output at the last position (`"anchor"`: the
 * user's input sequence under the step's dropout masks, DuoRec's `seq_output`) or an input
 * sequence to encode (an augmented copy, the same sequence again for a second dropout mask, or
 * another user's prefix with the same next item). A view's representation is the encoder output
 * at its last position. The recommendation rows and every view row run through the encoder in
 * one pass of one padded length (the batch's; `encodeMixed`, whose final block computes only the
 * views' last query): views longer than that keep their most recent items, so a contrastive
 * step never pads a short batch to a long view.
 *
 * InfoNCE over the 2B representations (NT-Xent, SimCLR): for representation i the positive is
 * the other view of the same user, the negatives are the other 2B − 2 representations;
 * similarity `cos` (CL4SRec, CoSeRec) or `dot` (DuoRec), divided by the temperature τ. With
 * `maskSameTarget`, representations of two users whose next item is the same are not each
 * other's negatives (they are the positives of DuoRec's supervised sampling; DuoRec's released
 * code leaves them in).
 *
 * Sharded steps (`gradientShards` > 1) stay exact by gradient caching (Gao et al., RepL4NLP
 * 2021): (1) every shard encodes its rows without keeping the graph and returns its
 * representations; (2) the caller computes InfoNCE over all 2B representations and its gradient
 * G with respect to each of them (closed form, `infoNceGradient`); (3) every shard re-runs its
 * rows with the same dropout seed and backpropagates its recommendation loss (divided by the
 * whole batch's denominator) plus Σ rep ⊙ G; the caller sums the shard gradients and takes one
 * Adam step. Same arithmetic on every thread, so the weights do not depend on the thread count.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import { logSumExpRows, matmul } from "../tf/ops.ts";
import { leftPad, type BatchShape, type TrainArrays } from "./negatives.ts";
import { applySummed, shardRows, type ShardJob, type ShardResult, type StepHost } from "./steps.ts";

export type Similarity = "cos" | "dot";

/** InfoNCE settings; defaults follow CL4SRec, CoSeRec and DuoRec (τ = 1, λ = 0.1). */
export interface ContrastiveOptions {
  /** λ: weight of InfoNCE next to the recommendation loss. Default 0.1. */
  weight: number;
  /** τ: similarities are divided by it. Default 1. */
  temperature: number;
  /** `cos` (CL4SRec, CoSeRec) or `dot` (DuoRec). Default `cos`. */
  similarity: Similarity;
  /** Users with the same next item are not each other's negatives. Default true. */
  maskSameTarget: boolean;
}

export const CONTRASTIVE_DEFAULTS: ContrastiveOptions = { weight: 0.1, temperature: 1, similarity: "cos", maskSameTarget: true };

/** The two views of every user of a batch, in batch order; sequences are encoder inputs (no target). */
export interface ContrastiveViews {
  first: "anchor" | Int32Array[];
  second: Int32Array[];
}

/** A shard of a contrastive step: its recommendation rows plus its users' view rows, one padded length `L`. */
export interface ContrastiveJob extends ShardJob {
  /** View rows, left-padded to `L`: the first views (unless `anchor`), then the second views. */
  viewIds: Int32Array;
  viewRows: number;
  /** The first view is the recommendation pass's own last position. */
  anchor: boolean;
}

/**
 * Runs the two passes of a sharded contrastive step, possibly on other threads: `reps` for every
 * job, then `grad` on the caller, then the shard gradients with each job's slice of G. Must
 * return exactly what the in-thread protocol returns, so weights never depend on the threads.
 */
export type ContrastiveRun = (jobs: ContrastiveJob[], grad: (reps: Float32Array[]) => Float32Array[]) => ShardResult[];

/** What the contrastive step needs beyond a plain step. */
export interface ContrastiveHost extends StepHost {
  readonly shape: BatchShape;
  readonly hiddenSize: number;
  /** `encodeMixed` (layers.ts) in training mode, dropout from `dropout` (default: the model's stream). */
  encodeMixed(ids: Int32Array, n: number, L: number, fullRows: number, dropout?: Rng): { full: tf.Tensor3D; last: tf.Tensor2D };
  /** The recommendation loss of `a` from its hidden states [B·L, d]. */
  recLoss(hidden: tf.Tensor2D, a: TrainArrays, labelSmoothing: number): tf.Scalar;
}

/**
 * One optimisation step on the recommendation loss of `batch` plus λ × InfoNCE between the two
 * `views` of its users; returns the total loss. Unsharded, one forward and backward pass with
 * autodiff through InfoNCE; sharded, gradient caching through `run` (see the header).
 */
export function contrastiveStep(host: ContrastiveHost, batch: TrainBatch, views: ContrastiveViews, opts: ContrastiveOptions, run?: ContrastiveRun): number {
  checkOptions(opts);
  const B = batch.seqs.length;
  for (const [name, v] of [["first", views.first], ["second", views.second]] as const) {
    if (v !== "anchor" && v.length !== B) {
      throw new Error(`trainStepContrastive: \`views.${name}\` has ${v.length} sequences, \`batch\` has ${B}; views must hold the same users in the same order`);
    }
  }
  const targets = lastTargets(batch);
  const masks = nceMasks(targets, opts.maskSameTarget);
  const eps = batch.labelSmoothing ?? 0;
  if (host.gradientShards > 1 && B > 1 && run) {
    // The batch's padded length bounds every view, sharded or not, so the math is the same.
    const whole = host.trainArrays(batch); // draws negatives row by row, as a plain step
    const L = whole.L;
    const lossDenominator = batch.lossDenominator ?? Math.max(whole.weights.reduce((s, w) => s + w, 0), 1);
    const jobs: ContrastiveJob[] = shardRows(B, Math.min(host.gradientShards, B)).map((rows) => {
      const a = sliceRows(whole, rows);
      const viewSeqs = [...(views.first === "anchor" ? [] : rows.map((r) => (views.first as Int32Array[])[r]!)), ...rows.map((r) => views.second[r]!)];
      return { ...a, lossDenominator, labelSmoothing: eps, dropoutSeed: host.dropoutSeed(), viewIds: leftPad(viewSeqs, L), viewRows: viewSeqs.length, anchor: views.first === "anchor" };
    });
    let nce = 0;
    const results = run(jobs, (reps) => {
      const d = host.hiddenSize;
      const z = new Float32Array(2 * B * d);
      // Canonical order: every user's first view in batch order, then every second view.
      let offset = 0;
      reps.forEach((r, i) => {
        const n = jobs[i]!.B * d;
        z.set(r.subarray(0, n), offset);
        z.set(r.subarray(n, 2 * n), B * d + offset);
        offset += n;
      });
      const { loss, grad } = infoNceGradient(z, 2 * B, d, masks, opts);
      nce = loss;
      offset = 0;
      return jobs.map((job) => {
        const n = job.B * d;
        const g = new Float32Array(2 * n);
        g.set(grad.subarray(offset, offset + n), 0);
        g.set(grad.subarray(B * d + offset, B * d + offset + n), n);
        offset += n;
        return g;
      });
    });
    applySummed(host, results.map((r) => r.grads));
    for (const r of results) for (const g of r.grads) g.dispose();
    return results.reduce((s, r) => s + r.loss, 0) + opts.weight * nce;
  }
  const arrays = host.trainArrays(batch);
  const viewSeqs = [...(views.first === "anchor" ? [] : views.first), ...views.second];
  const job = { arrays, viewIds: leftPad(viewSeqs, arrays.L), viewRows: viewSeqs.length, anchor: views.first === "anchor" };
  return host.minimize(() => {
    const { rec, reps } = forward(host, job, eps, undefined, true);
    const nce = infoNceLoss(reps, masks, opts);
    return tf.add(rec!, tf.mul(nce, opts.weight)) as tf.Scalar;
  });
}

/** Pass 1 of a sharded step: the job's representations [2·B_job, d] (first views, then second), no graph kept. */
export function contrastiveReps(host: ContrastiveHost, job: ContrastiveJob): Float32Array {
  const dropout = new Rng(job.dropoutSeed, "shard-dropout");
  const reps = tf.tidy(() => forward(host, asRows(job), job.labelSmoothing, dropout, false).reps);
  const out = reps.dataSync().slice() as Float32Array;
  reps.dispose();
  return out;
}

/**
 * The job's recommendation loss (its value) and the gradients of that loss plus Σ reps ⊙ G, with
 * G = `sliceOf(reps)` (its slice of λ·∂InfoNCE/∂reps); the returned loss is the recommendation
 * part alone, the caller adds λ·InfoNCE once.
 */
function gradientsWithCachedNce(host: ContrastiveHost, job: ContrastiveJob, sliceOf: (reps: tf.Tensor2D) => Float32Array): ShardResult {
  const varList = host.variables();
  const dropout = new Rng(job.dropoutSeed, "shard-dropout");
  let rec = 0;
  const { value, grads } = tf.variableGrads(() => {
    const { rec: r, reps } = forward(host, asRows(job), job.labelSmoothing, dropout, true);
    rec = r!.dataSync()[0]!;
    const g = sliceOf(reps);
    return tf.add(r!, tf.sum(tf.mul(reps, tf.tensor2d(g, reps.shape as [number, number])))) as tf.Scalar;
  }, varList);
  value.dispose();
  return { loss: rec, grads: varList.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/** Pass 2: pass 1's rows re-run with the same dropout, backpropagating the cached slice `g`. */
export function contrastiveShardGradients(host: ContrastiveHost, job: ContrastiveJob, g: Float32Array): ShardResult {
  return gradientsWithCachedNce(host, job, () => g);
}

/**
 * Passes 1 and 2 of one job in a single forward pass that keeps its graph: `exchange(reps)`
 * hands the job's representations to the caller and returns the job's slice of G (it may block
 * until every thread's representations are in). The forward is the one pass 2 would re-run, so
 * the result is bit-identical to `contrastiveReps` then `contrastiveShardGradients`, without the
 * second forward; a thread holding one shard uses this.
 */
export function contrastiveShardGradientsFused(host: ContrastiveHost, job: ContrastiveJob, exchange: (reps: Float32Array) => Float32Array): ShardResult {
  return gradientsWithCachedNce(host, job, (reps) => exchange(reps.dataSync().slice() as Float32Array));
}

interface Rows {
  arrays: TrainArrays;
  viewIds: Int32Array;
  viewRows: number;
  anchor: boolean;
}

function asRows(job: ContrastiveJob): Rows {
  return { arrays: job, viewIds: job.viewIds, viewRows: job.viewRows, anchor: job.anchor };
}

/**
 * Encode the recommendation rows and the view rows in one pass → the recommendation loss (when
 * `withRec`) and the representations [2B, d]: first views, then second views.
 */
function forward(host: ContrastiveHost, rows: Rows, eps: number, dropout: Rng | undefined, withRec: boolean): { rec?: tf.Scalar; reps: tf.Tensor2D } {
  const { B, L } = rows.arrays;
  const d = host.hiddenSize;
  const n = B + rows.viewRows;
  const ids = new Int32Array(n * L);
  ids.set(rows.arrays.inputs, 0);
  ids.set(rows.viewIds, B * L);
  const { full, last } = host.encodeMixed(ids, n, L, B, dropout); // [B L d], [viewRows d]
  const reps = (rows.anchor ? tf.concat([tf.slice(full, [0, L - 1, 0], [B, 1, d]).reshape([B, d]), last], 0) : last) as tf.Tensor2D; // [2B d]
  const rec = withRec ? host.recLoss(full.reshape([B * L, d]) as tf.Tensor2D, rows.arrays, eps) : undefined;
  return { ...(rec ? { rec } : {}), reps };
}

/** The next item after each user's last position: what "same target" compares. */
function lastTargets(batch: TrainBatch): Int32Array {
  return Int32Array.from(batch.seqs, (s, b) => {
    const t = batch.targets?.[b];
    return t ? t[t.length - 1]! : s[s.length - 1]!;
  });
}

/** Host masks for 2B representations: additive (−1e9 on self and masked negatives) and the positive's one-hot. */
export interface NceMasks { n: number; additive: Float32Array; positive: Float32Array }

export function nceMasks(targets: Int32Array, maskSameTarget: boolean): NceMasks {
  const B = targets.length;
  const n = 2 * B;
  const additive = new Float32Array(n * n);
  const positive = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const pos = (i + B) % n;
    positive[i * n + pos] = 1;
    for (let j = 0; j < n; j++) {
      if (j === i || (maskSameTarget && j !== pos && targets[i % B] === targets[j % B])) additive[i * n + j] = -1e9;
    }
  }
  return { n, additive, positive };
}

/** Similarity logits [n, n] (masked) and what the gradient needs. */
function nceLogits(z: tf.Tensor2D, masks: NceMasks, opts: ContrastiveOptions): { logits: tf.Tensor2D; u: tf.Tensor2D; norm?: tf.Tensor2D } {
  let u = z;
  let norm: tf.Tensor2D | undefined;
  if (opts.similarity === "cos") {
    norm = tf.sqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12)) as tf.Tensor2D; // [n 1]
    u = tf.div(z, norm) as tf.Tensor2D;
  }
  const sim = tf.mul(matmul(u, tf.transpose(u) as tf.Tensor2D), 1 / opts.temperature); // [n n]
  return { logits: tf.add(sim, tf.tensor2d(masks.additive, [masks.n, masks.n])) as tf.Tensor2D, u, ...(norm ? { norm } : {}) };
}

/** Mean InfoNCE over the n representations `z` [n, d] (differentiable). */
export function infoNceLoss(z: tf.Tensor2D, masks: NceMasks, opts: ContrastiveOptions): tf.Scalar {
  const { logits } = nceLogits(z, masks, opts);
  const posLogit = tf.sum(tf.mul(logits, tf.tensor2d(masks.positive, [masks.n, masks.n])), -1); // [n]
  return tf.mean(tf.sub(logSumExpRows(logits), posLogit));
}

/**
 * InfoNCE over host representations `z` [n, d] and G = λ·∂InfoNCE/∂z in closed form: with S the
 * masked logits, P = softmax(S) and Y the positives, ∂L/∂S = (P − Y)/n and ∂L/∂U = (A + Aᵀ)U/τ
 * for A = ∂L/∂S; for `cos`, U = z/‖z‖ gives ∂L/∂z = (∂L/∂U − U·(U·∂L/∂U))/‖z‖ per row.
 */
export function infoNceGradient(z: Float32Array, n: number, d: number, masks: NceMasks, opts: ContrastiveOptions): { loss: number; grad: Float32Array } {
  const out = tf.tidy(() => {
    const zt = tf.tensor2d(z, [n, d]);
    const { logits, u, norm } = nceLogits(zt, masks, opts);
    const y = tf.tensor2d(masks.positive, [n, n]);
    const loss = tf.mean(tf.sub(logSumExpRows(logits), tf.sum(tf.mul(logits, y), -1)));
    const a = tf.div(tf.sub(tf.softmax(logits, -1), y), n) as tf.Tensor2D; // [n n]
    let g = tf.mul(matmul(tf.add(a, tf.transpose(a)) as tf.Tensor2D, u), 1 / opts.temperature) as tf.Tensor2D; // [n d]
    if (norm) g = tf.div(tf.sub(g, tf.mul(u, tf.sum(tf.mul(u, g), -1, true))), norm) as tf.Tensor2D;
    return { loss, grad: tf.mul(g, opts.weight) };
  });
  const result = { loss: out.loss.dataSync()[0]!, grad: out.grad.dataSync().slice() as Float32Array };
  out.loss.dispose();
  out.grad.dispose();
  return result;
}

/** `rows` of padded arrays (same padded length), with their sampled negatives. */
function sliceRows(a: TrainArrays, rows: number[]): TrainArrays {
  const pick = <T extends Int32Array | Float32Array>(x: T, width: number): T => {
    const out = new (x.constructor as new (n: number) => T)(rows.length * width);
    rows.forEach((r, k) => out.set(x.subarray(r * width, r * width + width), k * width));
    return out;
  };
  const L = a.L;
  const sampled = a.sampled ? { sampled: pick(a.sampled, a.sampled.length / a.B) } : {};
  return { B: rows.length, L, inputs: pick(a.inputs, L), targets: pick(a.targets, L), negatives: pick(a.negatives, L), weights: pick(a.weights, L), ...sampled };
}

function checkOptions(o: ContrastiveOptions): void {
  if (!(Number.isFinite(o.weight) && o.weight >= 0)) throw new RangeError(`trainStepContrastive: \`weight\` must be a finite number >= 0, got ${o.weight}`);
  if (!(o.temperature > 0)) throw new RangeError(`trainStepContrastive: \`temperature\` must be > 0, got ${o.temperature}`);
  if (o.similarity !== "cos" && o.similarity !== "dot") throw new RangeError(`trainStepContrastive: \`similarity\` must be "cos" or "dot", got ${JSON.stringify(o.similarity)}`);
}
