/**
 * `reinforce`: REINFORCE (Williams, 1992) with a moving-average baseline, updated online every
 * `updateEvery` steps during the episode, as the augmentation controller of OHL-AutoAug
 * (Lin et al., ICCV 2019). Policy: a small tanh MLP with a categorical head over ops and one over
 * magnitude bins (see policy.ts).
 *
 * Each step's reward is treated as its own return (the augmentation of a batch mostly shows in
 * the next validation change), so the advantage is rₜ − bₜ with bₜ the moving average of earlier
 * rewards. Deviation: advantages are divided by their RMS over the update batch
 * (`normalizeAdvantage`), which makes the step size independent of the reward scale.
 *
 * `uniformMix` ε > 0 acts from the mixture (1 − ε)·π + ε·uniform and follows the gradient of
 * the mixture's log-probability (the exploration of EXP3, Auer et al., 2002): every action keeps
 * at least ε × its uniform probability, so under rewards noisier than the ops' differences the
 * policy cannot collapse onto one op — and the schedule exported from its steps keeps that mix.
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../core/rng.ts";
import { actionLogProb, Adam, type AdamState, checkTransition, FactoredPolicy, RolloutBuffer, type StoredTransition } from "./policy.ts";
import { checkObservation, checkStateHeader, stateHeader, validateActionSpace, validateObsDim } from "./space.ts";
import type { Action, ActionSpace, Agent, AgentState, Transition } from "./types.ts";

export interface ReinforceConfig {
  /** Hidden layer sizes of the policy MLP. Default [64, 64]. */
  hiddenSizes: number[];
  /** Adam learning rate. Default 0.003. */
  learningRate: number;
  /** Policy update every K observed steps (OHL-AutoAug updates online within the episode). Default 8. */
  updateEvery: number;
  /** Baseline b ← decay·b + (1−decay)·r. Default 0.9. */
  baselineDecay: number;
  /** Entropy bonus coefficient. Default 0.01. */
  entCoef: number;
  /** Divide advantages by their RMS over the update batch. Default true. */
  normalizeAdvantage: boolean;
  /** Global gradient-norm clip; 0 = off. Default 0.5. */
  maxGradNorm: number;
  /** Probability ε in [0, 1) of acting uniformly instead of from the policy (an exploration floor). Default 0. */
  uniformMix: number;
}

export const DEFAULT_REINFORCE_CONFIG: ReinforceConfig = {
  hiddenSizes: [64, 64],
  learningRate: 0.003,
  updateEvery: 8,
  baselineDecay: 0.9,
  entCoef: 0.01,
  normalizeAdvantage: true,
  maxGradNorm: 0.5,
  uniformMix: 0,
};

export class ReinforceAgent implements Agent {
  readonly name = "reinforce";
  readonly config: ReinforceConfig;
  private rng: Rng;
  readonly policy: FactoredPolicy;
  private readonly optimizer: Adam;
  private readonly buffer = new RolloutBuffer();
  /** Advantage rₜ − bₜ of each buffered step, fixed when the step was observed. */
  private advantages: number[] = [];
  private baseline = 0;
  private baselineSeen = false;
  private numUpdates = 0;
  private readonly uniformOpProbs: number[];
  private readonly uniformBinProbs: number[];

  constructor(config: Partial<ReinforceConfig>, readonly space: ActionSpace, readonly obsDim: number, rng: Rng) {
    validateActionSpace(space);
    validateObsDim(obsDim);
    this.config = { ...DEFAULT_REINFORCE_CONFIG, ...config };
    const c = this.config;
    if (!(Number.isInteger(c.updateEvery) && c.updateEvery >= 1)) throw new Error(`reinforce: \`params.updateEvery\` must be an integer ≥ 1, got ${c.updateEvery}`);
    if (!(c.learningRate > 0)) throw new Error(`reinforce: \`params.learningRate\` must be > 0, got ${c.learningRate}`);
    if (!(c.baselineDecay >= 0 && c.baselineDecay < 1)) throw new Error(`reinforce: \`params.baselineDecay\` must be in [0,1), got ${c.baselineDecay}`);
    if (!(c.uniformMix >= 0 && c.uniformMix < 1)) throw new Error(`reinforce: \`params.uniformMix\` must be in [0,1), got ${c.uniformMix}`);
    this.rng = rng;
    this.uniformOpProbs = space.ops.map(() => 1 / space.ops.length);
    this.uniformBinProbs = space.magnitudeBins.map(() => 1 / space.magnitudeBins.length);
    this.policy = new FactoredPolicy(space, obsDim, c.hiddenSizes, rng);
    this.optimizer = new Adam(this.policy.net.vars, c.learningRate);
  }

  // ---- rollout

  act(observation: Float32Array): Action {
    checkObservation(this.name, observation, this.obsDim);
    const eps = this.config.uniformMix;
    const sampled = this.policy.sample(observation, this.rng);
    let { ops, bins, logProb } = sampled;
    if (eps > 0) {
      // The policy's sample is drawn either way, so the stream's position does not depend on the coin.
      if (this.rng.bernoulli(eps)) {
        ops = ops.map(() => this.rng.int(this.space.ops.length));
        bins = bins.map(() => this.rng.int(this.space.magnitudeBins.length));
        logProb = actionLogProb(sampled.opProbs, sampled.binProbs, ops, bins);
      }
      logProb = mixtureLogProb(logProb, this.uniformLogProb(ops, bins), eps);
    }
    return { ops, bins, magnitudes: ops.map((o, s) => (o === 0 ? 0 : this.space.magnitudeBins[bins[s]!]!)), logProb };
  }

  /** Log-probability of an action under uniform sampling. */
  private uniformLogProb(ops: ReadonlyArray<number>, bins: ReadonlyArray<number>): number {
    return actionLogProb(this.uniformOpProbs, this.uniformBinProbs, ops, bins);
  }

  observe(t: Transition): void {
    checkTransition(this.name, t, this.space, this.obsDim);
    if (!this.baselineSeen) {
      this.baseline = t.reward; // start the baseline at the first reward instead of 0
      this.baselineSeen = true;
    }
    this.buffer.add(t);
    this.advantages.push(t.reward - this.baseline);
    this.baseline = this.config.baselineDecay * this.baseline + (1 - this.config.baselineDecay) * t.reward;
  }

  // ---- update

  async update(): Promise<Record<string, number>> {
    const c = this.config;
    if (this.buffer.length < c.updateEvery) return {};
    let batchAdvantages = this.advantages;
    if (c.normalizeAdvantage) {
      const rms = Math.sqrt(batchAdvantages.reduce((a, x) => a + x * x, 0) / batchAdvantages.length);
      batchAdvantages = batchAdvantages.map((x) => x / (rms + 1e-8));
    }
    const { obs, ops, bins } = this.buffer.tensors();
    const advT = tf.tensor1d(batchAdvantages, "float32");
    const uniformT = c.uniformMix > 0 ? tf.tensor1d(this.buffer.items.map((t) => this.uniformLogProb(t.ops, t.bins)), "float32") : undefined;
    let pgLossT: tf.Scalar | undefined;
    let entropyT: tf.Scalar | undefined;
    const { loss, gradNorm } = this.optimizer.minimize(() => {
      const { logProb: policyLogProb, entropy } = this.policy.evaluate(obs, ops, bins);
      const logProb = c.uniformMix > 0 ? mixtureLogProbT(policyLogProb, uniformT!, c.uniformMix) : policyLogProb;
      const pgLoss = tf.neg(tf.mean(tf.mul(advT, logProb)));
      const meanEntropy = tf.mean(entropy);
      pgLossT = tf.keep(pgLoss.clone()) as tf.Scalar;
      entropyT = tf.keep(meanEntropy.clone()) as tf.Scalar;
      return tf.sub(pgLoss, tf.mul(c.entCoef, meanEntropy)) as tf.Scalar;
    }, c.maxGradNorm);
    const pgLoss = pgLossT!.dataSync()[0]!;
    const entropy = entropyT!.dataSync()[0]!;
    tf.dispose([obs, ops, bins, advT, pgLossT!, entropyT!, ...(uniformT ? [uniformT] : [])]);
    const meanReward = this.buffer.items.reduce((a, t) => a + t.reward, 0) / this.buffer.length;
    this.buffer.clear();
    this.advantages = [];
    this.numUpdates++;
    return {
      "losses/loss": loss,
      "losses/pgLoss": pgLoss,
      "losses/entropy": entropy,
      "losses/gradNorm": gradNorm,
      "rollout/baseline": this.baseline,
      "rollout/meanReward": meanReward,
      "charts/numUpdates": this.numUpdates,
    };
  }

  /** Current op and bin probabilities for one observation. */
  probabilities(observation: Float32Array): { ops: number[]; bins: number[] } {
    return this.policy.probabilities(observation);
  }

  // ---- save / load

  save(): AgentState {
    return {
      ...stateHeader(this.name, this.space, this.obsDim, this.rng),
      config: this.config,
      weights: this.policy.net.weights(),
      optimizer: this.optimizer.state(),
      buffer: structuredClone(this.buffer.items),
      advantages: [...this.advantages],
      baseline: this.baseline,
      baselineSeen: this.baselineSeen,
      numUpdates: this.numUpdates,
    };
  }

  load(state: AgentState): void {
    // States saved before `uniformMix` existed acted without it.
    const config = { ...(state.config as Record<string, unknown>) };
    config.uniformMix ??= 0;
    const rng = checkStateHeader(this.name, this.space, this.obsDim, { ...state, config }, this.config);
    this.policy.net.setWeights(state.weights as number[][]);
    this.optimizer.restore(state.optimizer as AdamState);
    this.buffer.items = structuredClone(state.buffer as StoredTransition[]);
    this.advantages = [...(state.advantages as number[])];
    this.baseline = state.baseline as number;
    this.baselineSeen = state.baselineSeen as boolean;
    this.numUpdates = state.numUpdates as number;
    this.rng = rng;
  }

  /** Frees the tf variables. */
  dispose(): void {
    this.policy.net.dispose();
    this.optimizer.dispose();
  }
}

/** log((1 − ε)·exp(policyLogProb) + ε·exp(uniformLogProb)), computed without underflow. */
export function mixtureLogProb(policyLogProb: number, uniformLogProb: number, eps: number): number {
  const a = Math.log1p(-eps) + policyLogProb;
  const b = Math.log(eps) + uniformLogProb;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** {@link mixtureLogProb} on tensors [N] (differentiable in `policyLogProb`). */
function mixtureLogProbT(policyLogProb: tf.Tensor1D, uniformLogProb: tf.Tensor1D, eps: number): tf.Tensor1D {
  const parts = tf.stack([tf.add(policyLogProb, Math.log1p(-eps)), tf.add(uniformLogProb, Math.log(eps))], 1);
  return tf.logSumExp(parts, 1) as tf.Tensor1D;
}
