/**
 * Contrastive training step: the recommendation loss plus `weight` × NT-Xent between two views
 * of the batch's users (CL4SRec, Xie et al., ICDE 2022).
 */
import * as tf from "@tensorflow/tfjs";
import type { TrainBatch } from "../data/types.ts";
import { matmul } from "../tf/ops.ts";
import { leftPad, padLength, type BatchShape } from "./negatives.ts";
import { batchArrays, type StepHost } from "./steps.ts";

/** What the contrastive step needs beyond a plain step. */
export interface ContrastiveHost extends StepHost {
  readonly shape: BatchShape;
  readonly hiddenSize: number;
  /** Encoder output in training mode (the model's dropout stream) → [B, L or 1, d]. */
  encode(ids: Int32Array, B: number, L: number, lastOnly: boolean): tf.Tensor3D;
}

/**
 * One optimisation step on the recommendation loss of `batch` plus `weight` × NT-Xent between
 * two augmented views of the same users. Returns the total loss.
 *
 * A view's representation is the last-position output of the encoder on the view's inputs (its
 * sequence without the last item, as a training step reads a batch; a 1-item view is read as that
 * item). Similarities are cosine / `temperature`; for user b the positive is the other view of b
 * and the negatives are the other 2B−2 representations. Dropout is on in both views, as in
 * CL4SRec. The recommendation part draws negatives and dropout seeds first and in the same order
 * as a plain step, so with `weight` 0 the returned loss equals the plain step's.
 */
export function contrastiveStep(host: ContrastiveHost, batch: TrainBatch, views: [TrainBatch, TrainBatch], weight: number, temperature = 1): number {
  const B = batch.seqs.length;
  for (const [i, v] of views.entries()) {
    if (v.seqs.length !== B) {
      throw new Error(`trainStepContrastive: \`views[${i}]\` has ${v.seqs.length} sequences, \`batch\` has ${B}; views must hold the same users in the same order`);
    }
  }
  if (!(Number.isFinite(weight) && weight >= 0)) throw new RangeError(`trainStepContrastive: \`weight\` must be a finite number >= 0, got ${weight}`);
  if (!(temperature > 0)) throw new RangeError(`trainStepContrastive: \`temperature\` must be > 0, got ${temperature}`);
  const arrays = batchArrays(host, batch);
  const eps = batch.labelSmoothing ?? 0;
  // Both views in one encoder pass of 2B rows (half the kernel launches of two passes; positions
  // are right-aligned and padding is masked, so the common padded length changes no output).
  const both = viewInputs(host.shape, [...views[0].seqs, ...views[1].seqs]);
  return host.minimize(() => {
    const rec = host.loss(arrays, eps);
    const d = host.hiddenSize;
    const z = host.encode(both.ids, 2 * B, both.L, true).reshape([2 * B, d]); // [2B d]
    const zn = tf.mul(z, tf.rsqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12)));
    const sim = tf.mul(matmul(zn as tf.Tensor2D, tf.transpose(zn) as tf.Tensor2D), 1 / temperature); // [2B 2B]
    const { selfMask, positive } = contrastiveMasks(B);
    const logits = tf.add(sim, selfMask); // a representation is never its own negative
    const posLogit = tf.sum(tf.mul(logits, positive), -1); // [2B]
    const nce = tf.mean(tf.sub(tf.logSumExp(logits, -1), posLogit));
    return tf.add(rec, tf.mul(nce, weight)) as tf.Scalar;
  });
}

/** Left-padded input ids of contrastive views: each sequence without its last item. */
function viewInputs(shape: BatchShape, seqs: Int32Array[]): { ids: Int32Array; L: number } {
  const inputsOf = (s: Int32Array) => (s.length > 1 ? s.subarray(0, s.length - 1) : s);
  let longest = 1;
  for (const s of seqs) longest = Math.max(longest, Math.min(inputsOf(s).length, shape.maxLen));
  const L = padLength(shape, longest);
  return { ids: leftPad(seqs.map(inputsOf), L), L };
}

/** [2B, 2B] constants for NT-Xent: -1e9 on the diagonal; one-hot of each row's other view. */
function contrastiveMasks(B: number): { selfMask: tf.Tensor2D; positive: tf.Tensor2D } {
  const n = 2 * B;
  const self = new Float32Array(n * n);
  const pos = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    self[i * n + i] = -1e9;
    pos[i * n + ((i + B) % n)] = 1;
  }
  return { selfMask: tf.tensor2d(self, [n, n]), positive: tf.tensor2d(pos, [n, n]) };
}
