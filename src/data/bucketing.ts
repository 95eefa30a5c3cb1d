/**
 * Length-bucketed training batches.
 *
 * Beauty histories average 8.9 items but a few reach 200, so a randomly drawn batch of 256 is
 * almost always padded to the full 50 positions and most of its compute is padding. Here a
 * seeded shuffle of the users is stable-sorted by training length, cut into batches of similar
 * length, and the batch order is shuffled again: every eligible user still appears exactly once
 * per epoch, in an order that depends only on the rng stream. The model pads each batch to its
 * own longest sequence (SASRec `lengthBucketing`), with position ids unchanged, so padding less
 * changes the cost, not the function computed.
 */
import type { Rng } from "../core/rng.ts";
import { eligibleUsers, type TrainBatchOptions } from "./batches.ts";
import type { LeaveOneOutSplit, TrainBatch } from "./types.ts";

export function bucketedTrainBatches(split: LeaveOneOutSplit, opts: TrainBatchOptions): TrainBatch[] {
  const { batchSize, maxLen, rng } = opts;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`\`batchSize\` must be a positive integer, got ${batchSize}`);
  }
  const users = Array.from(eligibleUsers(split));
  rng.shuffle(users);
  const len = (u: number) => Math.min(split.train[u]!.length, maxLen + 1);
  users.sort((a, b) => len(a) - len(b)); // Array.prototype.sort is stable: ties keep the shuffled order
  const batches: TrainBatch[] = [];
  const stamps = opts.withTimes === false ? undefined : split.dataset.timestamps;
  for (let start = 0; start < users.length; start += batchSize) {
    const ids = Int32Array.from(users.slice(start, start + batchSize));
    const seqs = Array.from(ids, (u) => {
      const s = split.train[u]!;
      return s.subarray(Math.max(0, s.length - (maxLen + 1)));
    });
    const batch: TrainBatch = { users: ids, seqs, numItems: split.dataset.numItems };
    if (stamps) {
      batch.times = Array.from(ids, (u) => {
        const s = split.train[u]!;
        return stamps[u]!.subarray(Math.max(0, s.length - (maxLen + 1)), s.length);
      });
    }
    batches.push(batch);
  }
  return shuffleInPlace(batches, rng);
}

function shuffleInPlace<T>(xs: T[], rng: Rng): T[] {
  rng.shuffle(xs);
  return xs;
}
