/**
 * Training batches for a next-item model, one epoch per call.
 *
 * Each sample is one user's training sequence cut to its last `maxLen + 1` items, so the model
 * sees at most `maxLen` inputs and `maxLen` targets. Users whose training sequence has fewer
 * than 2 items give no (input, target) pair and are skipped. The user order is a seeded
 * shuffle drawn from the rng passed in: pass a named stream (`rng.child("data")`) and call once
 * per epoch, so epoch k's order depends only on the seed and k.
 */
import type { Rng } from "../core/rng.ts";
import type { LeaveOneOutSplit, TrainBatch } from "./types.ts";

/** Options of `trainBatches`. */
export interface TrainBatchOptions {
  /** Samples per batch; the last batch of an epoch may be smaller. SASRec default: 256. */
  batchSize: number;
  /** Most input positions per sample; each sample has at most `maxLen + 1` items. SASRec default: 50. */
  maxLen: number;
  /** Stream that draws the epoch's user order; it advances by one shuffle per call. */
  rng: Rng;
  /**
   * Fill `TrainBatch.times` when the dataset has timestamps. Default true. Note `times[b]` is
   * aligned with `seqs[b]` (same length), so sequence ops can crop both with the same indices.
   */
  withTimes?: boolean;
}

/** Indices of the users that give at least one training pair (training sequence length >= 2). */
export function eligibleUsers(split: LeaveOneOutSplit): Int32Array {
  let n = 0;
  for (const s of split.train) if (s.length >= 2) n++;
  const out = new Int32Array(n);
  let k = 0;
  for (let u = 0; u < split.train.length; u++) if (split.train[u]!.length >= 2) out[k++] = u;
  return out;
}

/**
 * One epoch of batches: every eligible user exactly once, in a seeded random order.
 * `seqs[b]` (and `times[b]`) are views into the split's arrays, not copies: ops must not mutate them
 * (the op contract already forbids it), and this keeps an epoch of 22k users at a few ms.
 */
export function trainBatches(split: LeaveOneOutSplit, opts: TrainBatchOptions): TrainBatch[] {
  const { batchSize, maxLen, rng } = opts;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`\`batchSize\` must be a positive integer, got ${batchSize}`);
  }
  if (!(Number.isInteger(maxLen) && maxLen > 0)) {
    throw new RangeError(`\`maxLen\` must be a positive integer, got ${maxLen} (SASRec uses 50 on Beauty)`);
  }
  const order = eligibleUsers(split);
  rng.shuffle(order);
  const numItems = split.dataset.numItems;
  const stamps = opts.withTimes === false ? undefined : split.dataset.timestamps;

  const batches: TrainBatch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const users = order.slice(start, Math.min(start + batchSize, order.length));
    const seqs: Int32Array[] = new Array(users.length);
    const times: Float64Array[] | undefined = stamps ? new Array(users.length) : undefined;
    for (let b = 0; b < users.length; b++) {
      const u = users[b]!;
      const s = split.train[u]!;
      const from = Math.max(0, s.length - (maxLen + 1));
      seqs[b] = s.subarray(from);
      if (times) times[b] = stamps![u]!.subarray(from, s.length);
    }
    const batch: TrainBatch = { users, seqs, numItems };
    if (times) batch.times = times;
    batches.push(batch);
  }
  return batches;
}

/**
 * Give every batch of an epoch the same loss denominator: the epoch's mean number of
 * (input, target) positions per batch. With length-bucketed batches the per-batch mean would
 * weight a position in a batch of short histories far more than one in a batch of long ones.
 */
export function normaliseLossPerEpoch(batches: TrainBatch[]): void {
  let positions = 0;
  for (const b of batches) for (const s of b.seqs) positions += Math.max(0, s.length - 1);
  for (const b of batches) b.lossDenominator = positions / batches.length;
}

/** The samples `idx` of a batch as a batch of their own (arrays shared, not copied). */
export function selectSamples(batch: TrainBatch, idx: ArrayLike<number>): TrainBatch {
  const pick = <T>(xs: readonly T[] | undefined): T[] | undefined => (xs ? Array.from(idx, (i) => xs[i]!) : undefined);
  const out: TrainBatch = {
    users: Int32Array.from(idx, (i) => batch.users[i]!),
    seqs: pick(batch.seqs)!,
    numItems: batch.numItems,
  };
  if (batch.labelSmoothing !== undefined) out.labelSmoothing = batch.labelSmoothing;
  const t = pick(batch.targets); if (t) out.targets = t;
  const w = pick(batch.weights); if (w) out.weights = w;
  const n = pick(batch.negatives); if (n) out.negatives = n;
  const a = pick(batch.attributes); if (a) out.attributes = a;
  const k = pick(batch.titleTokens); if (k) out.titleTokens = k;
  const tm = pick(batch.times); if (tm) out.times = tm;
  return out;
}
