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
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../core/rng.ts";
import { Adam, type AdamState, checkTransition, FactoredPolicy, RolloutBuffer, type StoredTransition } from "./policy.ts";
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
}

export const DEFAULT_REINFORCE_CONFIG: ReinforceConfig = {
  hiddenSizes: [64, 64],
  learningRate: 0.003,
  updateEvery: 8,
  baselineDecay: 0.9,
  entCoef: 0.01,
  normalizeAdvantage: true,
  maxGradNorm: 0.5,
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

  constructor(config: Partial<ReinforceConfig>, readonly space: ActionSpace, readonly obsDim: number, rng: Rng) {
    validateActionSpace(space);
    validateObsDim(obsDim);
    this.config = { ...DEFAULT_REINFORCE_CONFIG, ...config };
    const c = this.config;
    if (!(Number.isInteger(c.updateEvery) && c.updateEvery >= 1)) throw new Error(`reinforce: \`params.updateEvery\` must be an integer ≥ 1, got ${c.updateEvery}`);
    if (!(c.learningRate > 0)) throw new Error(`reinforce: \`params.learningRate\` must be > 0, got ${c.learningRate}`);
    if (!(c.baselineDecay >= 0 && c.baselineDecay < 1)) throw new Error(`reinforce: \`params.baselineDecay\` must be in [0,1), got ${c.baselineDecay}`);
    this.rng = rng;
    this.policy = new FactoredPolicy(space, obsDim, c.hiddenSizes, rng);
    this.optimizer = new Adam(this.policy.net.vars, c.learningRate);
  }

  // ---- rollout

  act(observation: Float32Array): Action {
    checkObservation(this.name, observation, this.obsDim);
    const { ops, bins, logProb } = this.policy.sample(observation, this.rng);
    return { ops, bins, magnitudes: ops.map((o, s) => (o === 0 ? 0 : this.space.magnitudeBins[bins[s]!]!)), logProb };
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
    let pgLossT: tf.Scalar | undefined;
    let entropyT: tf.Scalar | undefined;
    const { loss, gradNorm } = this.optimizer.minimize(() => {
      const { logProb, entropy } = this.policy.evaluate(obs, ops, bins);
      const pgLoss = tf.neg(tf.mean(tf.mul(advT, logProb)));
      const meanEntropy = tf.mean(entropy);
      pgLossT = tf.keep(pgLoss.clone()) as tf.Scalar;
      entropyT = tf.keep(meanEntropy.clone()) as tf.Scalar;
      return tf.sub(pgLoss, tf.mul(c.entCoef, meanEntropy)) as tf.Scalar;
    }, c.maxGradNorm);
    const pgLoss = pgLossT!.dataSync()[0]!;
    const entropy = entropyT!.dataSync()[0]!;
    tf.dispose([obs, ops, bins, advT, pgLossT!, entropyT!]);
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
    const rng = checkStateHeader(this.name, this.space, this.obsDim, state, this.config);
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
