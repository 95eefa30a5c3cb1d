/**
 * What every augmentation env shares about a training run: checking an action against the action
 * space, the statistics the agent observes (loss and its moving average, the last reward-metric
 * value and its change, the previous action, a running mean reward per op), and the observation
 * vector built from them. One implementation, so the recommender and the intent classifier give
 * agents the same observation layout (length 7 + 2·|ops|).
 */
import type { ActionSpace, EnvAction } from "./types.ts";

const LOSS_EMA = 0.1;
const OP_REWARD_EMA = 0.2;

/** The agent-visible statistics of a run, serialisable with the env's state. */
export interface RunStats {
  lastLoss: number;
  lossEma: number;
  lastMetric: number;
  lastTrend: number;
  prevOps: number[];
  prevMagnitude: number;
  opReward: number[];
  opTried: number[];
}

export function freshRunStats(numOps: number): RunStats {
  return { lastLoss: 0, lossEma: 0, lastMetric: 0, lastTrend: 0, prevOps: [0], prevMagnitude: 0, opReward: new Array(numOps).fill(0), opTried: new Array(numOps).fill(0) };
}

/**
 * The (op index, magnitude) pairs an action stands for, identity slots and zero magnitudes
 * dropped; throws naming the slot and the value when the action does not fit `space`.
 */
export function actionPairs(action: EnvAction, space: ActionSpace, who: string): { op: number; magnitude: number }[] {
  const { ops, slots } = space;
  if (action.ops.length !== slots || action.magnitudes.length !== slots) {
    throw new Error(`${who}.step: action must have ${slots} op(s) and magnitude(s); got ops=${JSON.stringify(action.ops)} magnitudes=${JSON.stringify(action.magnitudes)}`);
  }
  const out: { op: number; magnitude: number }[] = [];
  action.ops.forEach((o, i) => {
    if (!Number.isInteger(o) || o < 0 || o >= ops.length) {
      throw new Error(`${who}.step: \`action.ops[${i}]\` must index the ${ops.length} ops (0..${ops.length - 1}); got ${o}`);
    }
    const m = action.magnitudes[i]!;
    if (!(m >= 0 && m <= 1)) throw new Error(`${who}.step: \`action.magnitudes[${i}]\` must be in [0, 1]; got ${m}`);
    if (o !== 0 && m > 0) out.push({ op: o, magnitude: m });
  });
  return out;
}

/** The reward a step whose loss or reward is not finite gets after its update is undone. */
export const NAN_PENALTY = -1;

/**
 * A fresh measurement `m` of the reward metric: its change × `trendScale` becomes the observed
 * trend and `m` the last value. Returns false (stats untouched) when `m` is not finite.
 */
export function foldMeasurement(s: RunStats, m: number, trendScale: number): boolean {
  if (!Number.isFinite(m)) return false;
  s.lastTrend = trendScale * (m - s.lastMetric);
  s.lastMetric = m;
  return true;
}

/**
 * Ends a step the same way in every env: a non-finite loss or reward means a poisoned update,
 * so `restoreGood` undoes it (the episode goes on) and the action is paid `NAN_PENALTY`, marked
 * `nan-rollback` in `info`; then the statistics are updated. Returns the reward to pay.
 */
export function finishStep(
  s: RunStats,
  o: { step: number; loss: number; reward: number; measured: boolean; action: EnvAction; restoreGood: () => void; info: { event?: string } },
): number {
  const rolledBack = !Number.isFinite(o.loss) || !Number.isFinite(o.reward);
  let reward = o.reward;
  if (rolledBack) {
    o.restoreGood();
    o.info.event = "nan-rollback";
    reward = NAN_PENALTY;
  }
  recordStep(s, { step: o.step, loss: o.loss, rolledBack, reward, measured: o.measured, action: o.action });
  return reward;
}

/**
 * After a step: the loss and its moving average (only when the step was not rolled back), the
 * per-op reward average when the reward was measured (or the step was rolled back), and the
 * action as "previous action".
 */
export function recordStep(s: RunStats, o: { step: number; loss: number; rolledBack: boolean; reward: number; measured: boolean; action: EnvAction }): void {
  if (!o.rolledBack) {
    s.lastLoss = o.loss;
    s.lossEma = o.step === 1 ? o.loss : (1 - LOSS_EMA) * s.lossEma + LOSS_EMA * o.loss;
  }
  const op0 = o.action.ops[0]!;
  if (o.measured || o.rolledBack) {
    s.opReward[op0] = s.opTried[op0] ? (1 - OP_REWARD_EMA) * s.opReward[op0]! + OP_REWARD_EMA * o.reward : o.reward;
    s.opTried[op0] = 1;
  }
  s.prevOps = [...o.action.ops];
  s.prevMagnitude = op0 === 0 ? 0 : o.action.magnitudes[0]!;
}

/**
 * | index | meaning |
 * |---|---|
 * | 0 | training progress: steps done / horizon (capped at 1) |
 * | 1 | epoch progress |
 * | 2, 3 | last training loss, its moving average (α = 0.1) |
 * | 4 | last reward-metric value × `metricScale` |
 * | 5 | its last change × the reward scale |
 * | 6 | previous magnitude (slot 0) |
 * | 7 … 6+n | previous op, one-hot (slot 0; all zero before the first step) |
 * | 7+n … 6+2n | per-op running mean reward (α = 0.2), 0 until tried |
 */
export function observationOf(s: RunStats, o: { progress: number; epochProgress: number; started: boolean; metricScale: number; numOps: number }): Float32Array {
  const n = o.numOps;
  const obs = new Float32Array(7 + 2 * n);
  obs[0] = Math.min(1, o.progress);
  obs[1] = o.epochProgress;
  obs[2] = s.lastLoss;
  obs[3] = s.lossEma;
  obs[4] = o.metricScale * s.lastMetric;
  obs[5] = s.lastTrend;
  obs[6] = s.prevMagnitude;
  obs[7 + s.prevOps[0]!] = o.started ? 1 : 0;
  for (let i = 0; i < n; i++) obs[7 + n + i] = s.opReward[i]!;
  return obs;
}
