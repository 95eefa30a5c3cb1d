/**
 * Plain supervised training of a next-item model with model selection on validation NDCG@10.
 * Used by `rl-train baseline` and the benchmarks; the RL env drives `trainStep` itself.
 */
import { Rng, type RngState } from "../core/rng.ts";
import { epochBatches } from "../data/epoch.ts";
import type { LeaveOneOutSplit, TrainBatch } from "../data/types.ts";
import { evaluate, type ChunkRunner, type EvalResult } from "./evaluate.ts";
import type { SASRec, SASRecState } from "./sasrec.ts";

export interface TrainerConfig {
  /** Most training epochs. Default 200. */
  epochs: number;
  /** Samples per batch. Default 256. */
  batchSize: number;
  /** Stop after this many validations without a new best validation NDCG@10. Default 10. */
  patience: number;
  /** Validate every this many epochs. Default 1. */
  evalEvery: number;
  /** Group users of similar length into batches (see data/bucketing.ts). Default true. */
  bucketBatches: boolean;
  /** Metric that selects the best epoch. Default `NDCG@10`. */
  selectMetric: string;
  /**
   * `batch`: each batch's loss is the mean over its own positions (SASRec's usual form).
   * `epoch`: every batch divides by the epoch's mean positions per batch, so with length
   * bucketing each position weighs the same as with random batches. Default `batch`.
   */
  lossNormalization: "batch" | "epoch";
}

export const TRAINER_DEFAULTS: TrainerConfig = {
  epochs: 200,
  batchSize: 256,
  patience: 10,
  evalEvery: 1,
  bucketBatches: true,
  selectMetric: "NDCG@10",
  lossNormalization: "batch",
};

export interface EpochLog {
  epoch: number;
  loss: number;
  trainSeconds: number;
  valid?: Record<string, number>;
  validSeconds?: number;
}

export interface TrainerResult {
  bestEpoch: number;
  valid: EvalResult;
  test: EvalResult;
  epochs: EpochLog[];
  secondsPerEpoch: number;
  wallSeconds: number;
  stoppedEarly: boolean;
}

/**
 * Everything needed to continue a supervised run exactly after the last evaluated epoch: the
 * model (weights, Adam moments, dropout and negative streams), the batch-order stream, the best
 * state so far and the logs.
 */
export interface TrainerCheckpoint {
  /** Epochs completed. */
  epoch: number;
  model: SASRecState;
  dataRng: RngState;
  best: { epoch: number; value: number };
  bestState?: SASRecState;
  sinceBest: number;
  trainSecondsTotal: number;
  epochs: EpochLog[];
}

/** What the trainer may be given besides its config. */
export interface TrainerOptions {
  /** Continue from this checkpoint (as `onCheckpoint` gave it) instead of epoch 1. */
  resume?: TrainerCheckpoint;
  /** Called after every evaluated epoch with a checkpoint to store (e.g. for a long benchmark). */
  onCheckpoint?(cp: TrainerCheckpoint): void;
  /** Shares validation and test ranking with helper threads (`createEvalPool`); default this thread. */
  evalRunner?: ChunkRunner;
  /** One training step on a batch, returning its loss. Default `model.trainStep(batch)`. */
  step?: (batch: TrainBatch) => number;
}

export interface TrainerCallbacks {
  /** Called after every batch with the running epoch loss. */
  onBatch?(epoch: number, batch: number, numBatches: number, loss: number): void;
  /** Called after every epoch; return false to stop. */
  onEpoch?(log: EpochLog, best: { epoch: number; value: number }): boolean | void;
}

export function trainSupervised(
  model: SASRec,
  split: LeaveOneOutSplit,
  rng: Rng,
  config: Partial<TrainerConfig> = {},
  callbacks: TrainerCallbacks = {},
  options: TrainerOptions = {},
): TrainerResult {
  const c = { ...TRAINER_DEFAULTS, ...config };
  const r = options.resume;
  const dataRng = r ? Rng.restore(r.dataRng) : rng.child("batches");
  const t0 = performance.now();
  const epochs: EpochLog[] = r ? [...r.epochs] : [];
  let best = r ? { ...r.best } : { epoch: 0, value: -Infinity };
  let bestState: SASRecState | undefined = r?.bestState;
  let sinceBest = r?.sinceBest ?? 0;
  let trainSecondsTotal = r?.trainSecondsTotal ?? 0;
  let stoppedEarly = false;
  if (r) model.setState(r.model);
  for (let epoch = (r?.epoch ?? 0) + 1; epoch <= c.epochs; epoch++) {
    const te = performance.now();
    const batches = epochBatches(split, {
      batchSize: c.batchSize, maxLen: model.config.maxLen, rng: dataRng, withTimes: false, bucket: c.bucketBatches, lossNormalization: c.lossNormalization,
    });
    let lossSum = 0;
    batches.forEach((batch, i) => {
      lossSum += options.step ? options.step(batch) : model.trainStep(batch);
      callbacks.onBatch?.(epoch, i + 1, batches.length, lossSum / (i + 1));
    });
    const log: EpochLog = { epoch, loss: lossSum / batches.length, trainSeconds: (performance.now() - te) / 1000 };
    trainSecondsTotal += log.trainSeconds;
    if (epoch % c.evalEvery === 0 || epoch === c.epochs) {
      const v = evaluate(model, split, "valid", { runner: options.evalRunner });
      log.valid = v.metrics;
      log.validSeconds = v.seconds;
      const value = v.metrics[c.selectMetric]!;
      if (value > best.value) {
        best = { epoch, value };
        bestState = model.getState();
        sinceBest = 0;
      } else sinceBest++;
    }
    epochs.push(log);
    if (log.valid && options.onCheckpoint) {
      options.onCheckpoint({ epoch, model: model.getState(), dataRng: dataRng.state(), best: { ...best }, ...(bestState ? { bestState } : {}), sinceBest, trainSecondsTotal, epochs: [...epochs] });
    }
    if (callbacks.onEpoch?.(log, best) === false) break;
    if (sinceBest >= c.patience) {
      stoppedEarly = true;
      break;
    }
  }
  if (bestState) model.setState(bestState);
  const valid = evaluate(model, split, "valid", { runner: options.evalRunner });
  const test = evaluate(model, split, "test", { runner: options.evalRunner });
  return {
    bestEpoch: best.epoch,
    valid,
    test,
    epochs,
    secondsPerEpoch: trainSecondsTotal / epochs.length,
    wallSeconds: (performance.now() - t0) / 1000,
    stoppedEarly,
  };
}
