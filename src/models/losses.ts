/**
 * Next-item recommendation losses over the hidden states of every position.
 *
 * - `bce`: one sampled negative per position, binary cross-entropy on the positive and the
 *   negative logit (Kang & McAuley, ICDM 2018; the S3-Rec authors' PyTorch SASRec).
 * - `ce`: full softmax cross-entropy over every item (as BERT4Rec and DuoRec train SASRec). It
 *   materialises [positions, items] logits: ~20× the cost of a BCE epoch on Beauty.
 * - `sampled-softmax`: softmax cross-entropy over the positive and N negatives shared by the whole
 *   batch (one [N, d] gather and one [positions, N] product; Jean et al., ACL 2015; Klenitskiy &
 *   Vasilev, RecSys 2023, show SASRec with many sampled negatives close to full CE). Negatives are
 *   uniform, so the logQ correction (subtract log Q(item) from every candidate's logit) is the
 *   same constant for all candidates and cancels in the softmax; in-batch targets are not used as
 *   extra negatives, since their popularity-shaped Q would need that correction (Yi et al., RecSys
 *   2019). A negative equal to a position's target ("accidental hit") is masked for that position.
 * - `gbce`: gSASRec's generalised BCE (Petrov & Macdonald, RecSys 2023) over the same shared
 *   negatives: β·softplus(−s⁺) + Σ softplus(sⱼ⁻), divided by N+1, with β = α(t(1 − 1/α) + 1/α),
 *   α = N/(|I| − 1) the sampling rate and t ∈ [0, 1] the calibration (t = 0: plain BCE with N
 *   negatives; t = 1: the positive weighted by α, which makes the sampled probabilities match the
 *   full-softmax ones). Defaults N = 256, t = 0.75 as in gSASRec. Hits are masked as above.
 *
 * Every loss is a weighted sum over positions divided by the batch's denominator (see `TrainArrays`).
 */
import * as tf from "@tensorflow/tfjs";
import { logSumExpRows, matmul } from "../tf/ops.ts";
import type { TrainArrays } from "./negatives.ts";

export type LossKind = "bce" | "ce" | "sampled-softmax" | "gbce";

/** Losses that read negatives shared by the whole batch (`TrainArrays.sampled`). */
export function usesSharedNegatives(kind: LossKind): boolean {
  return kind === "sampled-softmax" || kind === "gbce";
}

/** gSASRec's β for `negatives` uniform negatives among `numItems` items and calibration `t` (see the header). */
export function gbceBeta(negatives: number, numItems: number, t: number): number {
  const alpha = negatives / (numItems - 1);
  return alpha * (t * (1 - 1 / alpha) + 1 / alpha);
}

/** [positions, N] row-major: 0 where shared negative j is position p's own target (an accidental hit), else 1. */
function keptNegatives(targets: Int32Array, negs: Int32Array): Float32Array {
  const N = negs.length;
  const slots = new Map<number, number[]>();
  negs.forEach((item, j) => slots.set(item, [...(slots.get(item) ?? []), j]));
  const keep = new Float32Array(targets.length * N).fill(1);
  targets.forEach((t, p) => {
    for (const j of slots.get(t) ?? []) keep[p * N + j] = 0;
  });
  return keep;
}

/** What a loss reads besides the hidden states: item rows for host ids, and the whole table. */
export interface LossContext {
  kind: LossKind;
  /** gBCE's β (see `gbceBeta`); read by `gbce` only. */
  gbceBeta?: number;
  /** Item-embedding rows for host-side ids → [n, d]. */
  items(ids: Int32Array, shape: number[]): tf.Tensor;
  /** The item table [V+2, d] (full softmax). */
  itemEmb: tf.Tensor2D;
}

/**
 * The recommendation loss of `hidden` [B·L, d] (the encoder output of `a.inputs`), as a scalar.
 * `labelSmoothing` ε: BCE labels become 1-ε / ε; CE mixes ε of the uniform distribution in.
 */
export function recommendationLoss(hidden: tf.Tensor2D, a: TrainArrays, ctx: LossContext, labelSmoothing: number): tf.Scalar {
  const { B, L } = a;
  const w = tf.tensor1d(a.weights); // [BL]
  const posLogit = tf.sum(tf.mul(hidden, ctx.items(a.targets, [B * L])), -1); // [BL]
  let perPos: tf.Tensor;
  const eps = labelSmoothing;
  if (ctx.kind === "bce") {
    const negLogit = tf.sum(tf.mul(hidden, ctx.items(a.negatives, [B * L])), -1); // [BL]
    // BCE with soft labels: the positive's label is 1-eps, the negative's eps.
    const bce = (logit: tf.Tensor, label: number) =>
      tf.add(tf.mul(label, tf.softplus(tf.neg(logit))), tf.mul(1 - label, tf.softplus(logit)));
    perPos = tf.add(bce(posLogit, 1 - eps), bce(negLogit, eps));
  } else if (usesSharedNegatives(ctx.kind)) {
    const negs = a.sampled;
    if (!negs) throw new Error(`loss \`${ctx.kind}\` needs the batch's shared negatives (TrainArrays.sampled); got none`);
    const N = negs.length;
    const negLogits = matmul(hidden, tf.transpose(ctx.items(negs, [N])) as tf.Tensor2D); // [BL N]
    // Built on the host: wasm runs broadcasting comparisons and concat element by element.
    const keep = tf.tensor2d(keptNegatives(a.targets, negs), [B * L, N]); // [BL N] 1, or 0 at a hit
    if (ctx.kind === "sampled-softmax") {
      const lseNeg = logSumExpRows(tf.add(negLogits, tf.mul(tf.sub(keep, 1), 1e9)) as tf.Tensor2D); // [BL]
      // log(e^pos + Σ e^neg) without concatenating [pos, negs]; exact for any shift m.
      const m = tf.maximum(posLogit, lseNeg);
      const lse = tf.add(m, tf.log(tf.add(tf.exp(tf.sub(posLogit, m)), tf.exp(tf.sub(lseNeg, m)))));
      perPos = tf.sub(lse, posLogit);
      // Smoothing over the candidates that were scored (the positive and the kept negatives).
      if (eps > 0) {
        const meanLogit = tf.div(tf.add(posLogit, tf.sum(tf.mul(negLogits, keep), -1)), tf.add(tf.sum(keep, -1), 1));
        perPos = tf.add(tf.mul(1 - eps, perPos), tf.mul(eps, tf.sub(lse, meanLogit)));
      }
    } else {
      const beta = ctx.gbceBeta ?? 1;
      const pos = eps > 0 ? tf.add(tf.mul(beta * (1 - eps), tf.softplus(tf.neg(posLogit))), tf.mul(beta * eps, tf.softplus(posLogit))) : tf.mul(beta, tf.softplus(tf.neg(posLogit)));
      const negTerm = eps > 0 ? tf.add(tf.mul(1 - eps, tf.softplus(negLogits)), tf.mul(eps, tf.softplus(tf.neg(negLogits)))) : tf.softplus(negLogits);
      perPos = tf.div(tf.add(pos, tf.sum(tf.mul(negTerm, keep), -1)), N + 1);
    }
  } else {
    const logits = matmul(hidden, tf.transpose(ctx.itemEmb)); // [BL V+2]
    const lse = logSumExpRows(logits);
    perPos = tf.sub(lse, posLogit);
    if (eps > 0) perPos = tf.add(tf.mul(1 - eps, perPos), tf.mul(eps, tf.sub(lse, tf.mean(logits, -1))));
  }
  // Default: the mean over this batch's positions. With `lossDenominator` (set per epoch by the
  // trainer) every position weighs the same whatever batch it lands in, as with random batches.
  const denominator = a.lossDenominator ?? tf.maximum(tf.sum(w), 1);
  return tf.div(tf.sum(tf.mul(perPos, w)), denominator) as tf.Scalar;
}
