/**
 * AugmentEnv — a recommender's training run as an RL environment (Gymnasium contract).
 *
 * Each step the agent picks augmentation ops and magnitudes; the env applies them to the next
 * `batchesPerStep` training batches of a SASRec model, trains on them, and pays a reward from
 * validation metrics.
 *
 * ## Action space
 * `slots` pairs (op index into `actionSpace.ops`, magnitude in [0,1]); `ops[0]` is `identity`
 * (no augmentation). Ops come from the augment registry (`rl.ops` in the env spec); magnitudes
 * are normally one of `rl.magnitudeBins`.
 *
 * ## How an action trains (`rl.mode`)
 * - `direct`: train on the augmented batches.
 * - `append`: train on each real batch plus its augmented copy (augmentation adds data).
 * - `contrastive`: the recommendation loss on the real batch plus λ × InfoNCE between two views
 *   of each user (`rl.contrastive`; views from sequence ops as in CL4SRec/CoSeRec, or the view
 *   ops `dropout-view` and `supervised-positive` as in DuoRec; src/augment/views.ts); identity
 *   makes no views.
 * In every mode an all-identity action is exactly a plain training step, so the `none` agent
 * is plain SASRec.
 *
 * ## Observation (Float32Array, length 7 + 2·|ops|)
 * | index | meaning | range |
 * |---|---|---|
 * | 0 | training progress: steps done / episode budget | [0, 1] |
 * | 1 | epoch progress: batches done in the current epoch / batches per epoch | [0, 1) |
 * | 2 | last step's training loss | ≥ 0 (BCE ≈ 0.3–1.4) |
 * | 3 | exponential moving average of the loss (α = 0.1) | ≥ 0 |
 * | 4 | last reward-subset validation metric × 10 (NDCG@10 by default) | [0, 10] |
 * | 5 | change of that metric at the last evaluation × `reward.scale` | ℝ |
 * | 6 | previous action's magnitude (slot 0) | [0, 1] |
 * | 7 … 6+|ops| | previous action's op, one-hot (slot 0) | {0, 1} |
 * | 7+|ops| … 6+2·|ops| | per-op running mean reward (EMA, α = 0.2), 0 until the op is tried | ℝ |
 *
 * ## Reward (`rl.reward.kind`, all multiplied by `rl.reward.scale`)
 * - `delta`: change of the validation metric on a fixed, seeded subset of `validUsers`
 *   validation users, measured every `evalEvery` steps and paid at the evaluated step (0 at the
 *   steps in between, whose actions it also reflects).
 * - `twin`: change of the gap between this model and a no-augmentation twin trained in lockstep
 *   on the same batches (L2Aug-style); the sum over an episode is the final gap.
 * - `final`: 0 until the last step, then the validation metric itself.
 * A non-finite loss or metric rolls the model back to the last good state, pays `-1` and
 * records `nan-rollback` in `info.event`.
 *
 * ## Start and end
 * `reset({ seed })` builds a fresh model from the seed (named streams: model, batches, augment,
 * reward-users, twin) and returns `{ observation, info }`; with `rl.warmStart` its weights and
 * Adam moments come from a saved model (`rl-train baseline --save-model`) while dropout,
 * negatives and batch order still come from the seed. With `training.lossNormalization:
 * "epoch"` every batch loss is divided by the epoch's mean positions per batch (as
 * `rl-train baseline` does). The budget, `budget.epochs` epochs of batches, is the env's
 * `horizon` in steps: the progress feature and the forced evaluation (and `final` reward) at
 * the last step use it, and the `TimeLimit` wrapper ends the episode `truncated` there (the
 * training run could go on). The env itself never sets `truncated` or `terminated`.
 *
 * ## Version history
 * v1: first version.
 * v2: honours `training.lossNormalization` (v1 always used the per-batch mean); `rl.warmStart`;
 *     reward subsets are scored in chunks of n/8 (now n/16) users (same ranks: ranks never depend
 *     on the chunk size). Observation and action
 *     spaces are unchanged. v1 checkpoints are refused, since a resumed run would train differently.
 *     In `contrastive` mode an identity step is now a plain step (it was InfoNCE between two
 *     dropout-only views; that change shipped without a version bump).
 * v3: the `Env` contract: `reset({ seed })` returns `{ observation, info }`; the budget is a
 *     `TimeLimit` wrapper (the env no longer truncates nor refuses steps past its horizon);
 *     `training.bucketBatches: false` is honoured (v2 always bucketed).
 *     Counted from v2 because of the contrastive identity change above; v2 checkpoints are refused.
 * v4: every batch draws its dropout masks, negatives and augmentation from a stream of its own
 *     (episode seed + batch index), so paired branches train a batch identically whatever they
 *     did before; final metrics add the held-out users (`heldout:NDCG@10`, `heldout:HR@10`: all
 *     users but the reward users); `rl.reward.metric` may be `LogLik`. v3 checkpoints are refused.
 */
import { Rng, type RngState } from "../core/rng.ts";
import { appendSamples, applySubPolicy, buildOpContext, createBatchOps, makeViews, SameTargetIndex, viewOpNames, type BatchOp, type SubPolicyStep } from "../augment/index.ts";
import { eligibleUsers } from "../data/batches.ts";
import { epochBatches } from "../data/epoch.ts";
import { loadModelFile, type ModelFile } from "../models/model-file.ts";
import type { LeaveOneOutSplit, TrainBatch } from "../data/types.ts";
import { evaluate, type ChunkRunner } from "../models/evaluate.ts";
import { metricsFromRanks } from "../models/metrics.ts";
import { SASRec, SASREC_DEFAULTS, type SASRecState, type ShardRunner } from "../models/sasrec.ts";
import type { ResolvedEnvSpec } from "./spec.ts";
import { actionPairs, finishStep, foldMeasurement, freshRunStats, observationOf, type RunStats } from "./run-stats.ts";
import type { ActionSpace, Env, EnvAction, EpisodeMetrics, ResetResult, StepInfo, StepResult } from "./types.ts";

export const ENV_VERSION = 4;
/** Metrics also reported on the held-out users (not the reward users). */
const HELD_OUT_METRICS = ["NDCG@10", "HR@10"];

/** Everything `setState` needs to continue an episode exactly. */
export interface AugmentEnvState {
  version: number;
  seed: string;
  stepCount: number;
  epoch: number;
  cursor: number;
  /** Batch-order stream as it was before the current epoch's batches were drawn. */
  epochRng: RngState;
  batchRng: RngState;
  augmentRng: RngState;
  model: SASRecState;
  twin?: SASRecState;
  goodModel?: SASRecState;
  stats: RunStats & { twinMetric: number };
}

/** Optional helpers an env can be given; results never depend on them, only speed. */
export interface AugmentEnvDeps {
  /** Computes the gradient shards of training steps (`createTrainPool`); default this thread. */
  shardRunner?: ShardRunner;
  /** Shares reward and final evaluations with helper threads (`createEvalPool`); default this thread. */
  evalRunner?: ChunkRunner;
}

export class AugmentEnv implements Env<AugmentEnvState> {
  readonly kind = "augment";
  readonly version = ENV_VERSION;
  readonly spec: ResolvedEnvSpec;
  readonly split: LeaveOneOutSplit;
  readonly actionSpace: ActionSpace;
  readonly observationDim: number;
  readonly batchesPerEpoch: number;
  /** Steps of the episode budget (`rl.budget.epochs` epochs of `rl.batchesPerStep`-batch steps). */
  readonly horizon: number;
  readonly stepMetrics: readonly string[];
  readonly episodeMetrics: readonly string[] = ["NDCG@10", "HR@10", "NDCG@20", "HR@20", ...HELD_OUT_METRICS.map((m) => `heldout:${m}`)];
  private readonly ops: Map<string, BatchOp>;
  /** Training prefixes by next item, for `supervised-positive` views. */
  private readonly sameTarget?: SameTargetIndex;
  private model?: SASRec;
  private twin?: SASRec;
  private seed = "";
  private rewardUsers: Int32Array = new Int32Array(0);
  private batchRng = new Rng(0, "batches");
  private epochRngState?: RngState;
  private augmentRng = new Rng(0, "augment");
  private epochBatches: TrainBatch[] = [];
  private epoch = 0;
  private cursor = 0;
  private stepCount = 0;
  private goodModel?: SASRecState;
  private stats = this.freshStats();
  private warm: ModelFile | undefined;

  constructor(spec: ResolvedEnvSpec, split: LeaveOneOutSplit, private readonly deps: AugmentEnvDeps = {}) {
    this.spec = spec;
    this.split = split;
    const rl = spec.rl;
    const ctx = buildOpContext({ numItems: split.dataset.numItems, train: split.train, catalogue: split.dataset.catalogue });
    this.ops = createBatchOps(ctx);
    for (const name of rl.ops) {
      if (name !== "identity" && !this.ops.has(name) && !viewOpNames.includes(name)) {
        throw new Error(`${spec.source}: \`rl.ops\` names unknown op "${name}"; known: identity, ${[...this.ops.keys(), ...viewOpNames].join(", ")}`);
      }
    }
    if (rl.ops.includes("supervised-positive")) this.sameTarget = new SameTargetIndex(split.train, split.dataset.numItems, spec.model.maxLen);
    this.actionSpace = { ops: [...rl.ops], magnitudeBins: [...rl.magnitudeBins], slots: rl.slots };
    // Fail at construction, not at the first reset, when the warm-start file is missing or does not fit.
    if (rl.warmStart) this.warm = loadModelFile(rl.warmStart, { config: { ...SASREC_DEFAULTS, ...spec.model }, numItems: split.dataset.numItems }, `${spec.source}: \`rl.warmStart\``);
    this.observationDim = 7 + 2 * rl.ops.length;
    this.batchesPerEpoch = Math.ceil(eligibleUsers(split).length / spec.training.batchSize);
    this.horizon = Math.max(1, Math.ceil((rl.budget.epochs * this.batchesPerEpoch) / rl.batchesPerStep));
    this.stepMetrics = [...new Set([rl.reward.metric, "NDCG@10", "HR@10"])];
  }

  describe(): string {
    const rl = this.spec.rl;
    return `${this.split.train.length} users, ${rl.budget.epochs} epoch(s) of ${this.batchesPerEpoch} batches, ${rl.batchesPerStep} per step (${this.horizon} steps), ${rl.mode} mode`;
  }

  private freshStats(): AugmentEnvState["stats"] {
    return { ...freshRunStats(this.spec?.rl.ops.length ?? 0), twinMetric: 0 };
  }

  /** Start a new episode: fresh model weights and streams from `seed`. */
  reset({ seed }: { seed: number | string }): ResetResult {
    this.model?.dispose();
    this.twin?.dispose();
    this.model = this.twin = undefined;
    this.begin(seed);
    const model = this.model!;
    this.stats.lastMetric = this.metric(model);
    this.stats.twinMetric = this.twin ? this.stats.lastMetric : 0;
    this.goodModel = model.getState();
    return { observation: this.observe(), info: { seed: this.seed, startMetric: this.stats.lastMetric } };
  }

  /**
   * Streams, reward users and (when there is none) a model for `seed`, without evaluating
   * anything: `setState` overwrites the model and the streams right after, and paired branches
   * call it at every stage, so an existing model is reused rather than rebuilt.
   */
  private begin(seed: number | string): void {
    const root = new Rng(seed);
    const sameSeed = this.seed === String(seed) && this.rewardUsers.length > 0;
    this.seed = String(seed);
    const modelOptions = { shardRunner: this.deps.shardRunner };
    if (!this.model) this.model = this.warmStarted(new SASRec(this.spec.model, this.split.dataset.numItems, root.child("model"), modelOptions));
    // The twin starts from the same weights and sees the same batches, without augmentation.
    if (!this.twin && this.spec.rl.reward.kind === "twin") this.twin = this.warmStarted(new SASRec(this.spec.model, this.split.dataset.numItems, root.child("model"), modelOptions));
    this.batchRng = root.child("batches");
    this.augmentRng = root.child("augment");
    if (!sameSeed) this.rewardUsers = this.drawRewardUsers(root.child("reward-users"));
    this.epoch = 0;
    this.cursor = 0;
    this.epochBatches = [];
    this.epochRngState = undefined;
    this.stepCount = 0;
    this.stats = this.freshStats();
  }

  /** With `rl.warmStart`, load the saved weights and Adam moments; the seed's streams stay. */
  private warmStarted(model: SASRec): SASRec {
    if (!this.warm) return model; // loaded (and checked) once, in the constructor
    model.setWeights(this.warm.weights);
    model.setOptimizerState(this.warm.optimizer);
    return model;
  }

  private drawRewardUsers(rng: Rng): Int32Array {
    const n = this.split.train.length;
    const k = Math.min(this.spec.rl.reward.validUsers, n);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    rng.shuffle(all);
    return all.slice(0, k).sort();
  }

  /** Reward-subset validation metrics: the reward metric plus NDCG@10 and HR@10 for the logs (same ranks, no extra scoring). */
  private subsetMetrics(model: SASRec): Record<string, number> {
    return evaluate(model, this.split, "valid", { users: this.rewardUsers, metrics: [...this.stepMetrics], runner: this.deps.evalRunner }).metrics;
  }

  private metric(model: SASRec): number {
    return this.subsetMetrics(model)[this.spec.rl.reward.metric]!;
  }

  private nextBatch(): TrainBatch {
    if (this.cursor >= this.epochBatches.length) {
      this.epochRngState = this.batchRng.state();
      this.epochBatches = this.drawEpoch(this.batchRng);
      this.epoch++;
      this.cursor = 0;
    }
    return this.epochBatches[this.cursor++]!;
  }

  /** One epoch of batches as `rl-train baseline` trains on them (bucketing and loss normalisation from `training`). */
  private drawEpoch(rng: Rng): TrainBatch[] {
    const t = this.spec.training;
    return epochBatches(this.split, {
      batchSize: t.batchSize, maxLen: this.spec.model.maxLen, rng, withTimes: true, bucket: t.bucketBatches, lossNormalization: t.lossNormalization,
    });
  }

  /** The sub-policy an action stands for (identity slots dropped). */
  subPolicy(action: EnvAction): SubPolicyStep[] {
    return actionPairs(action, this.actionSpace, "AugmentEnv").map(({ op, magnitude }) => ({ op: this.actionSpace.ops[op]!, probability: 1, magnitude }));
  }

  private augment(batch: TrainBatch, policy: SubPolicyStep[]): TrainBatch {
    return policy.length ? applySubPolicy(batch, policy, this.ops, this.augmentRng, this.spec.rl.applyMode) : batch;
  }

  /** Apply the action to the next batches, train, and pay the reward. */
  async step(action: EnvAction): Promise<StepResult<StepInfo>> {
    const model = this.model;
    if (!model) throw new Error("AugmentEnv.step: call reset({ seed }) before step()");
    const rl = this.spec.rl;
    const policy = this.subPolicy(action);
    let lossSum = 0;
    for (let k = 0; k < rl.batchesPerStep; k++) {
      const batch = this.nextBatch();
      // Every batch's randomness (dropout, negatives, augmentation) comes from its own stream,
      // derived from the episode seed and the batch's index: two runs that took different
      // actions before (paired branches) still train this batch with the same draws.
      const streams = new Rng(`${this.seed}/batch-${(this.epoch - 1) * this.epochBatches.length + this.cursor - 1}`);
      model.reseedStreams(streams.child("model"));
      this.twin?.reseedStreams(streams.child("model"));
      this.augmentRng = streams.child("augment");
      if (rl.mode === "contrastive" && policy.length) {
        // Identity makes no views: the step is the plain one, so `none` is plain SASRec exactly.
        const views = makeViews(batch, policy, { ops: this.ops, applyMode: rl.applyMode, train: this.split.train, ...(this.sameTarget ? { sameTarget: this.sameTarget } : {}) }, this.augmentRng);
        lossSum += model.trainStepContrastive(batch, views, rl.contrastive);
      } else if (rl.mode === "append" && policy.length) {
        // The real batch plus an augmented copy of it: augmentation adds data, never replaces it.
        lossSum += model.trainStep(appendSamples(batch, this.augment(batch, policy), this.augmentRng));
      } else {
        lossSum += model.trainStep(this.augment(batch, policy));
      }
      this.twin?.trainStep(batch);
    }
    this.stepCount++;
    const loss = lossSum / rl.batchesPerStep;
    const last = this.stepCount === this.horizon;
    const info: StepInfo = {
      trainLoss: loss, ops: policy.map((p) => p.op), magnitudes: policy.map((p) => p.magnitude),
      epoch: this.epoch, batchesDone: (this.epoch - 1) * this.batchesPerEpoch + this.cursor,
    };
    let reward = 0;
    const evalNow = last || this.stepCount % rl.reward.evalEvery === 0;
    if (Number.isFinite(loss) && evalNow) {
      info.valid = this.subsetMetrics(model);
      const m = info.valid[rl.reward.metric]!;
      const scale = rl.reward.scale;
      const before = this.stats.lastMetric;
      if (foldMeasurement(this.stats, m, scale)) {
        if (rl.reward.kind === "delta") reward = scale * (m - before);
        else if (rl.reward.kind === "twin") {
          const t = this.metric(this.twin!);
          reward = scale * (m - t - (before - this.stats.twinMetric));
          this.stats.twinMetric = t;
        } else if (last) reward = scale * m;
        this.goodModel = model.getState();
      } else reward = NaN;
    }
    reward = finishStep(this.stats, { step: this.stepCount, loss, reward, measured: evalNow, action, restoreGood: () => model.setState(this.goodModel!), info });
    return { observation: this.observe(), reward, terminated: false, truncated: false, info };
  }

  /** The current observation (e.g. after `setState`). */
  getObservation(): Float32Array {
    return this.observe();
  }

  private observe(): Float32Array {
    return observationOf(this.stats, {
      progress: this.stepCount / this.horizon, epochProgress: this.epochBatches.length ? this.cursor / this.epochBatches.length : 0,
      started: this.stepCount > 0, metricScale: 10, numOps: this.actionSpace.ops.length,
    });
  }

  /**
   * Full validation and test metrics of the current model (all users, full ranking), plus the
   * same on the held-out users (`heldout:NDCG@10`, …): every user but the reward users, whose
   * validation items the agent and the branch selection saw. From the same ranks, no rescoring.
   */
  finalMetrics(): EpisodeMetrics {
    if (!this.model) throw new Error("AugmentEnv.finalMetrics: call reset({ seed }) first");
    const runner = this.deps.evalRunner;
    const reward = new Set(this.rewardUsers);
    const heldOut = (r: ReturnType<typeof evaluate>) => {
      const ranks = r.ranks.filter((_, u) => !reward.has(u));
      return Object.fromEntries(Object.entries(metricsFromRanks(ranks, HELD_OUT_METRICS)).map(([k, v]) => [`heldout:${k}`, v]));
    };
    const valid = evaluate(this.model, this.split, "valid", { runner });
    const test = evaluate(this.model, this.split, "test", { runner });
    return { valid: { ...valid.metrics, ...heldOut(valid) }, test: { ...test.metrics, ...heldOut(test) } };
  }

  get steps(): number {
    return this.stepCount;
  }

  getState(): AugmentEnvState {
    if (!this.model) throw new Error("AugmentEnv.getState: call reset({ seed }) first");
    const state: AugmentEnvState = {
      version: ENV_VERSION, seed: this.seed, stepCount: this.stepCount, epoch: this.epoch, cursor: this.cursor,
      epochRng: this.epochRngState ?? this.batchRng.state(), batchRng: this.batchRng.state(), augmentRng: this.augmentRng.state(),
      model: this.model.getState(), stats: structuredClone(this.stats),
    };
    if (this.twin) state.twin = this.twin.getState();
    if (this.goodModel) state.goodModel = this.goodModel;
    return state;
  }

  /** Continue exactly from `getState()` output; returns the observation to act on. */
  setState(state: AugmentEnvState): Float32Array {
    if (state.version !== ENV_VERSION) {
      throw new Error(`AugmentEnv.setState: the checkpoint was written by env v${state.version}, this is v${ENV_VERSION} (it would train differently); start a new run instead of resuming`);
    }
    this.begin(state.seed);
    this.model!.setState(state.model);
    if (state.twin) this.twin?.setState(state.twin);
    this.goodModel = state.goodModel;
    this.stepCount = state.stepCount;
    this.epoch = state.epoch;
    this.augmentRng = Rng.restore(state.augmentRng);
    if (state.epoch > 0) {
      // Regenerate the current epoch's batch order from the stream as it was before drawing it.
      const epochRng = Rng.restore(state.epochRng);
      this.epochRngState = epochRng.state();
      this.epochBatches = this.drawEpoch(epochRng);
    }
    this.batchRng = Rng.restore(state.batchRng);
    this.cursor = state.cursor;
    this.stats = structuredClone(state.stats);
    return this.observe();
  }

  dispose(): void {
    this.model?.dispose();
    this.twin?.dispose();
    this.model = this.twin = undefined;
  }
}
