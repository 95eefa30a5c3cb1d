/**
 * The Gymnasium contract as TypeScript types. The agents layer has structurally identical
 * `ActionSpace`/`Action` types; the env keeps its own so that it never imports a layer above it.
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
 * `truncated`: the episode was cut by its budget (a time limit): the training run could go on,
 * so value-based agents should bootstrap from `observation`. augrl episodes end by budget, so
 * they end `truncated`.
 */
export interface StepResult<Info = StepInfo> {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

export interface StepInfo {
  /** Mean recommendation loss over this step's batches. */
  trainLoss: number;
  /** Reward-subset validation metrics when evaluated at this step, else undefined. */
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
