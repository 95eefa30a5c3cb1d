/**
 * One epoch of training batches as every trainer reads them (the supervised trainer and the RL
 * envs): length-bucketed or random (`training.bucketBatches`), and with
 * `training.lossNormalization: "epoch"` every batch's loss denominator set to the epoch's mean
 * positions per batch. One function, so that an env step trains on exactly what a supervised
 * epoch would.
 */
import { normaliseLossPerEpoch, trainBatches, type TrainBatchOptions } from "./batches.ts";
import { bucketedTrainBatches } from "./bucketing.ts";
import type { LeaveOneOutSplit, TrainBatch } from "./types.ts";

export interface EpochBatchOptions extends TrainBatchOptions {
  /** Group users of similar length into batches (see bucketing.ts) instead of a random order. */
  bucket: boolean;
  /** `batch`: each batch's loss is its own mean; `epoch`: every batch divides by the epoch's mean positions per batch. */
  lossNormalization: "batch" | "epoch";
}

export function epochBatches(split: LeaveOneOutSplit, opts: EpochBatchOptions): TrainBatch[] {
  const batches = (opts.bucket ? bucketedTrainBatches : trainBatches)(split, opts);
  if (opts.lossNormalization === "epoch") normaliseLossPerEpoch(batches);
  return batches;
}
