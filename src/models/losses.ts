/**
 * Next-item recommendation losses over the hidden states of every position.
 *
 * - `bce`: one sampled negative per position, binary cross-entropy on the positive and the
 *   negative logit (Kang & McAuley, ICDM 2018; the S3-Rec authors' PyTorch SASRec).
 * - `ce`: full softmax cross-entropy over every item (as BERT4Rec and DuoRec train SASRec).
 *
 * Every loss is a weighted sum over positions divided by the batch's denominator (see `TrainArrays`).
 */
import * as tf from "@tensorflow/tfjs";
import { matmul } from "../tf/ops.ts";
import type { TrainArrays } from "./negatives.ts";

export type LossKind = "bce" | "ce";

/** What a loss reads besides the hidden states: item rows for host ids, and the whole table. */
export interface LossContext {
  kind: LossKind;
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
  } else {
    const logits = matmul(hidden, tf.transpose(ctx.itemEmb)); // [BL V+2]
    const lse = tf.logSumExp(logits, -1);
    perPos = tf.sub(lse, posLogit);
    if (eps > 0) perPos = tf.add(tf.mul(1 - eps, perPos), tf.mul(eps, tf.sub(lse, tf.mean(logits, -1))));
  }
  // Default: the mean over this batch's positions. With `lossDenominator` (set per epoch by the
  // trainer) every position weighs the same whatever batch it lands in, as with random batches.
  const denominator = a.lossDenominator ?? tf.maximum(tf.sum(w), 1);
  return tf.div(tf.sum(tf.mul(perPos, w)), denominator) as tf.Scalar;
}
