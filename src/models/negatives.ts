/**
 * From a training batch to the padded arrays the loss reads, drawing the sampled negatives.
 *
 * SASRec reads a user's sequence s_1..s_n as n-1 (input, target) pairs: position t sees s_1..s_t
 * and predicts s_{t+1}. Rows are left-padded (id 0) to the batch's padded length.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";

/** Left-padded [B, L] arrays of a training batch, as the loss reads them. */
export interface TrainArrays {
  B: number;
  L: number;
  inputs: Int32Array;
  targets: Int32Array;
  /** One sampled negative per position (BCE); unused (zeros) by the other losses. */
  negatives: Int32Array;
  weights: Float32Array;
  lossDenominator?: number;
  /** Sampled softmax and gBCE: `perRow` negatives per row [B·perRow], shared by the row's positions. */
  sampled?: Int32Array;
}

/** The config fields padding and sampling read. */
export interface BatchShape {
  maxLen: number;
  lengthBucketing: boolean;
}

/** Padded length for a set of input lengths: the longest (at most maxLen) with bucketing, else maxLen. */
export function padLength(c: BatchShape, maxInputLen: number): number {
  return c.lengthBucketing ? Math.max(1, Math.min(c.maxLen, maxInputLen)) : c.maxLen;
}

/** Which negatives a loss reads: one per position (BCE), `perRow` per row (sampled softmax, gBCE), or none (CE). */
export interface NegativeSampling {
  perPosition: boolean;
  perRow: number;
}

/**
 * Build left-padded int arrays for a training batch: inputs, targets, negatives, weights [B*L].
 * Negatives are drawn row by row from `rng`, uniformly among the items the user never
 * interacted with (as S3-Rec's sampler does), so a negative is never one of the row's targets:
 * one per position for BCE (positions whose negative the batch gives explicitly,
 * `batch.negatives`, draw nothing), or `perRow` per row for the sampled softmax and gBCE.
 */
export function buildTrainArrays(batch: TrainBatch, c: BatchShape, numItems: number, rng: Rng, sampling: NegativeSampling = { perPosition: true, perRow: 0 }): TrainArrays {
  const B = batch.seqs.length;
  let longest = 1;
  for (const s of batch.seqs) longest = Math.max(longest, s.length - 1);
  const L = padLength(c, longest);
  const inputs = new Int32Array(B * L);
  const targets = new Int32Array(B * L);
  const negatives = new Int32Array(B * L);
  const weights = new Float32Array(B * L);
  const N = sampling.perRow;
  const sampled = N > 0 ? new Int32Array(B * N) : undefined;
  const V = numItems;
  for (let b = 0; b < B; b++) {
    const seq = batch.seqs[b]!;
    const n = seq.length - 1; // number of (input, target) pairs
    const take = Math.min(n, L);
    const tg = batch.targets?.[b];
    const ng = batch.negatives?.[b];
    const wt = batch.weights?.[b];
    // Items the user interacted with: negatives must avoid them.
    const seen = sampling.perPosition || sampled ? new Set<number>(seq) : undefined;
    if (seen && tg) for (const t of tg) seen.add(t);
    const draw = (): number => {
      let neg: number;
      do neg = 1 + rng.int(V);
      while (seen!.has(neg) && seen!.size < V);
      return neg;
    };
    for (let j = 0; j < take; j++) {
      const src = n - take + j; // pair index in the full sequence
      const dst = b * L + (L - take + j);
      inputs[dst] = seq[src]!;
      const target = tg ? tg[src]! : seq[src + 1]!;
      targets[dst] = target;
      weights[dst] = target > 0 ? (wt ? wt[src]! : 1) : 0;
      if (ng && ng[src]! > 0) negatives[dst] = ng[src]!;
      else if (sampling.perPosition) negatives[dst] = draw();
    }
    if (sampled) for (let k = 0; k < N; k++) sampled[b * N + k] = draw();
  }
  return { B, L, inputs, targets, negatives, weights, lossDenominator: batch.lossDenominator, ...(sampled ? { sampled } : {}) };
}

/** Left-pad sequences to `L` (keeping each one's most recent L items) → ids [n*L]. */
export function leftPad(seqs: readonly Int32Array[], L: number): Int32Array {
  const ids = new Int32Array(seqs.length * L);
  seqs.forEach((s, b) => {
    const take = Math.min(s.length, L);
    ids.set(s.subarray(s.length - take), b * L + (L - take));
  });
  return ids;
}
