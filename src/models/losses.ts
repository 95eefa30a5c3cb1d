/**
 * Next-item recommendation losses over the hidden states of every position.
 *
 * - `bce`: one sampled negative per position, binary cross-entropy on the positive and the
 *   negative logit (Kang & McAuley, ICDM 2018; the S3-Rec authors' PyTorch SASRec).
 * - `ce`: full softmax cross-entropy over every item (as BERT4Rec and DuoRec train SASRec), its
 *   log-sum-exp computed in row chunks (`logSumExpScores`) so the [positions, items] scores are
 *   never held at once (a 12,800-position batch would overflow the wasm heap).
 * - `sampled-softmax`: softmax cross-entropy over the positive and N negatives per sequence,
 *   shared by its positions (one [B, N, d] gather and a batched [B, L, N] product; Jean et al.,
 *   ACL 2015; Klenitskiy & Vasilev, RecSys 2023, show SASRec with many sampled negatives close to
 *   full CE). Negatives are uniform among the items the user never interacted with, so the logQ
 *   correction (subtract log Q(item) from every candidate's logit) is the same constant for all
 *   candidates and cancels in the softmax, and no negative is one of the sequence's targets. Not
 *   used: in-batch targets as extra negatives (their popularity-shaped Q would need that
 *   correction; Yi et al., RecSys 2019). Measured on Beauty: N negatives shared by the whole
 *   batch instead (12,800 positions) reach each item's embedding in ~2 % of the steps and made
 *   validation NDCG@10 fall after the first epoch; per sequence, every item is drawn several
 *   times per batch.
 * - `gbce`: gSASRec's generalised BCE (Petrov & Macdonald, RecSys 2023) over the same negatives:
 *   β·softplus(−s⁺) + Σ softplus(sⱼ⁻), divided by N+1, with β = α(t(1 − 1/α) + 1/α),
 *   α = N/(|I| − 1) the sampling rate and t ∈ [0, 1] the calibration (t = 0: plain BCE with N
 *   negatives; t = 1: the positive weighted by α, which makes the sampled probabilities match the
 *   full-softmax ones). Defaults N = 256, t = 0.75 as in gSASRec (which draws per position).
 *
 * Every loss is a weighted sum over positions divided by the batch's denominator (see `TrainArrays`).
 */
import * as tf from "@tensorflow/tfjs";
import { batchMatmul, logSumExpRows, logSumExpScores, matmul } from "../tf/ops.ts";
import type { TrainArrays } from "./negatives.ts";

export type LossKind = "bce" | "ce" | "sampled-softmax" | "gbce";

/** Losses that read N negatives per sequence (`TrainArrays.sampled`). */
export function usesSampledNegatives(kind: LossKind): boolean {
  return kind === "sampled-softmax" || kind === "gbce";
}

/** gSASRec's β for `negatives` uniform negatives among `numItems` items and calibration `t` (see the header). */
export function gbceBeta(negatives: number, numItems: number, t: number): number {
  const alpha = negatives / (numItems - 1);
  return alpha * (t * (1 - 1 / alpha) + 1 / alpha);
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
  } else if (usesSampledNegatives(ctx.kind)) {
    const negs = a.sampled;
    if (!negs) throw new Error(`loss \`${ctx.kind}\` needs the batch's sampled negatives (TrainArrays.sampled); got none`);
    const N = negs.length / B;
    const d = hidden.shape[1];
    const negLogits = batchMatmul(hidden.reshape([B, L, d]) as tf.Tensor3D, ctx.items(negs, [B, N]) as tf.Tensor3D, true).reshape([B * L, N]) as tf.Tensor2D; // [BL N]
    if (ctx.kind === "sampled-softmax") {
      const lseNeg = logSumExpRows(negLogits); // [BL]
      // log(e^pos + Σ e^neg) without concatenating [pos, negs] (concat runs element by element on wasm); exact for any shift m.
      const m = tf.maximum(posLogit, lseNeg);
      const lse = tf.add(m, tf.log(tf.add(tf.exp(tf.sub(posLogit, m)), tf.exp(tf.sub(lseNeg, m)))));
      perPos = tf.sub(lse, posLogit);
      // Smoothing over the candidates that were scored (the positive and the negatives).
      if (eps > 0) perPos = tf.add(tf.mul(1 - eps, perPos), tf.mul(eps, tf.sub(lse, tf.div(tf.add(posLogit, tf.sum(negLogits, -1)), N + 1))));
    } else {
      const beta = ctx.gbceBeta ?? 1;
      const pos = eps > 0 ? tf.add(tf.mul(beta * (1 - eps), tf.softplus(tf.neg(posLogit))), tf.mul(beta * eps, tf.softplus(posLogit))) : tf.mul(beta, tf.softplus(tf.neg(posLogit)));
      const negTerm = eps > 0 ? tf.add(tf.mul(1 - eps, tf.softplus(negLogits)), tf.mul(eps, tf.softplus(tf.neg(negLogits)))) : tf.softplus(negLogits);
      perPos = tf.div(tf.add(pos, tf.sum(negTerm, -1)), N + 1);
    }
  } else {
    // log Σ exp over every item's score, chunked: the [BL, V+2] scores never exist at once.
    const lse = logSumExpScores(hidden, ctx.itemEmb); // [BL]
    perPos = tf.sub(lse, posLogit);
    if (eps > 0) {
      // The mean score over the items is the score of the mean item row.
      const meanLogit = matmul(hidden, tf.mean(ctx.itemEmb, 0).reshape([hidden.shape[1], 1]) as tf.Tensor2D).reshape([B * L]);
      perPos = tf.add(tf.mul(1 - eps, perPos), tf.mul(eps, tf.sub(lse, meanLogit)));
    }
  }
  // Default: the mean over this batch's positions. With `lossDenominator` (set per epoch by the
  // trainer) every position weighs the same whatever batch it lands in, as with random batches.
  const denominator = a.lossDenominator ?? tf.maximum(tf.sum(w), 1);
  return tf.div(tf.sum(tf.mul(perPos, w)), denominator) as tf.Scalar;
}
