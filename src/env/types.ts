/**
 * The Gymnasium contract as TypeScript types, shared by every env (the recommender's AugmentEnv,
 * the intent classifier's IntentEnv). The agents layer has structurally identical
 * `ActionSpace`/`Action` types; the env keeps its own so that it never imports a layer above it.
 *
 * The run loop (src/cli), the recorder (src/record) and the monitor (src/monitor) see an env only
 * through {@link Env}: a second env reuses all of them by implementing this interface.
 */

/** One op from `ops` and one magnitude per slot. `ops[0]` is always `"identity"`. */
export interface ActionSpace {
  ops: string[];
  magnitudeBins: number[];
  slots: number;
}

/** What the env needs from an action: op indices and magnitudes per slot (bins are informational). */
export interface EnvAction {
  ops: number[];
  magnitudes: number[];
  bins?: number[];
}

/**
 * Result of `step`. `terminated`: the episode reached a terminal state (nothing to bootstrap).
 * `truncated`: the episode was cut by its budget (a time limit, see `TimeLimit`): the training
 * run could go on, so value-based agents should bootstrap from `observation`. augrl episodes end
 * by budget, so they end `truncated`.
 */
export interface StepResult<Info = StepInfo> {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

/** Result of `reset`, as Gymnasium's `(observation, info)`. */
export interface ResetResult<Info = ResetInfo> {
  observation: Float32Array;
  info: Info;
}

export interface ResetInfo {
  /** The episode's seed as the env's streams were derived from it. */
  seed: string;
  /** Reward metric of the starting model on the reward users (before any step). */
  startMetric?: number;
}

export interface StepInfo {
  /** Mean training loss of the env's model over this step's batches. */
  trainLoss: number;
  /** Reward-subset validation metrics when evaluated at this step (keys: the env's `stepMetrics`), else undefined. */
  valid?: Record<string, number>;
  /** Op names applied (identity slots left out). */
  ops: string[];
  magnitudes: number[];
  /** e.g. `nan-rollback` when the step's update was undone. */
  event?: string;
  /** Epoch (1-based) and batch cursor after this step. */
  epoch: number;
  batchesDone: number;
}

/** Full validation and test metrics of the env's model at the end of an episode. */
export interface EpisodeMetrics {
  valid: Record<string, number>;
  test: Record<string, number>;
}

/**
 * An augmentation-policy environment: each step the agent picks ops and magnitudes, the env
 * trains its model on the next batches with them and pays a reward from validation metrics.
 *
 * Life cycle: `reset({ seed })` → `step(action)` … until the `TimeLimit` wrapper sets
 * `truncated` → `finalMetrics()` → `reset` again or `dispose()`.
 */
export interface Env<State = unknown> {
  /** Env kind and behaviour version, e.g. `augment` v3; a checkpoint of another version is refused. */
  readonly kind: string;
  readonly version: number;
  readonly actionSpace: ActionSpace;
  readonly observationDim: number;
  /**
   * Steps of the episode budget. The env uses it for the progress feature of the observation
   * and for rewards paid at the end (`final`); `TimeLimit` enforces it.
   */
  readonly horizon: number;
  /** Names of the metrics in `StepInfo.valid`, the reward metric first. */
  readonly stepMetrics: readonly string[];
  /** Names of the metrics in `finalMetrics()`, the headline metric first (e.g. NDCG@10, accuracy). */
  readonly episodeMetrics: readonly string[];
  /** One line for the run log: data, model and budget. */
  describe(): string;
  reset(options: { seed: number | string }): ResetResult;
  step(action: EnvAction): Promise<StepResult>;
  /** Steps taken since the last reset. */
  readonly steps: number;
  finalMetrics(): EpisodeMetrics;
  /** Everything needed to continue the episode exactly (model, optimizer, streams, cursor). */
  getState(): State;
  /** Continue from `getState()` output; returns the observation to act on. */
  setState(state: State): Float32Array;
  dispose(): void;
}
