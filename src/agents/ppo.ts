/**
 * `ppo`: Proximal Policy Optimization (Schulman et al., 2017), actor-critic with GAE(λ)
 * (Schulman et al., 2016), clipped surrogate, (clipped) value loss, entropy bonus and minibatch
 * epochs; laid out after CleanRL's ppo.py. Actor: the factored categorical policy of policy.ts
 * (op head + magnitude-bin head); critic: a separate tanh MLP.
 *
 * Rollouts are `numSteps` observed transitions of the single env (episodes may end inside).
 * Episode ends: `terminated` → the future is worth 0; `truncated` (step budget) → bootstrap
 * from V(nextObservation); either way GAE does not flow across the boundary.
 * V(s) and V(s') and the old log-probs are computed at update time with the networks that acted
 * (they do not change within a rollout), so the env need not pass `logProb`/`value` back.
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../core/rng.ts";
import { Adam, type AdamState, checkTransition, FactoredPolicy, Mlp, RolloutBuffer, type StoredTransition } from "./policy.ts";
import { checkObservation, checkStateHeader, stateHeader, validateActionSpace, validateObsDim } from "./space.ts";
import type { Action, ActionSpace, Agent, AgentState, Transition } from "./types.ts";

export interface PpoConfig {
  /** Hidden layer sizes of the actor and of the critic MLP. Default [64, 64]. */
  hiddenSizes: number[];
  /** Adam learning rate (actor and critic). Default 0.003. */
  learningRate: number;
  /** Transitions per rollout; an update runs every `numSteps` steps. Default 16 (6–18 updates in a 100–300-step episode). */
  numSteps: number;
  /** Discount γ. Default 0.9 (an augmentation choice matters for ~10 batches, not the whole run). */
  gamma: number;
  /** GAE λ. Default 0.95. */
  gaeLambda: number;
  /** Minibatches per epoch (minibatch size = numSteps / numMinibatches, rounded up). Default 2. */
  numMinibatches: number;
  /** Passes over the rollout per update. Default 4. */
  updateEpochs: number;
  /** Normalise advantages per minibatch. Default true. */
  normAdv: boolean;
  /** Surrogate clipping ε. Default 0.2. */
  clipCoef: number;
  /** Clip the value loss around the old values (as CleanRL's `clip_vloss`). Default true. */
  clipVloss: boolean;
  /** Entropy bonus coefficient. Default 0.01. */
  entCoef: number;
  /** Value loss coefficient. Default 0.5. */
  vfCoef: number;
  /** Global gradient-norm clip; 0 = off. Default 0.5. */
  maxGradNorm: number;
  /** Stop the epochs early when approxKl exceeds this; 0 = off. Default 0.05 (tiny rollouts overshoot otherwise). */
  targetKl: number;
}

export const DEFAULT_PPO_CONFIG: PpoConfig = {
  hiddenSizes: [64, 64],
  learningRate: 0.003,
  numSteps: 16,
  gamma: 0.9,
  gaeLambda: 0.95,
  numMinibatches: 2,
  updateEpochs: 4,
  normAdv: true,
  clipCoef: 0.2,
  clipVloss: true,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: 0.05,
};

export class PpoAgent implements Agent {
  readonly name = "ppo";
  readonly config: PpoConfig;
  private rng: Rng;
  readonly actor: FactoredPolicy;
  readonly critic: Mlp;
  private readonly optimizer: Adam;
  private readonly buffer = new RolloutBuffer();
  private numUpdates = 0;

  constructor(config: Partial<PpoConfig>, readonly space: ActionSpace, readonly obsDim: number, rng: Rng) {
    validateActionSpace(space);
    validateObsDim(obsDim);
    this.config = { ...DEFAULT_PPO_CONFIG, ...config };
    const c = this.config;
    if (!(Number.isInteger(c.numSteps) && c.numSteps >= 2)) throw new Error(`ppo: \`params.numSteps\` must be an integer ≥ 2, got ${c.numSteps}`);
    if (!(Number.isInteger(c.numMinibatches) && c.numMinibatches >= 1 && c.numMinibatches <= c.numSteps)) {
      throw new Error(`ppo: \`params.numMinibatches\` must be an integer in [1, numSteps=${c.numSteps}], got ${c.numMinibatches}`);
    }
    if (!(c.learningRate > 0)) throw new Error(`ppo: \`params.learningRate\` must be > 0, got ${c.learningRate}`);
    this.rng = rng;
    this.actor = new FactoredPolicy(space, obsDim, c.hiddenSizes, rng);
    this.critic = new Mlp([obsDim, ...c.hiddenSizes, 1], rng, 1);
    this.optimizer = new Adam([...this.actor.net.vars, ...this.critic.vars], c.learningRate, 0.9, 0.999, 1e-5);
  }

  // ---- rollout

  act(observation: Float32Array): Action {
    checkObservation(this.name, observation, this.obsDim);
    const { ops, bins, logProb } = this.actor.sample(observation, this.rng);
    const valueT = tf.tidy(() => this.critic.apply(tf.tensor2d(observation, [1, this.obsDim])));
    const value = valueT.dataSync()[0]!;
    valueT.dispose();
    return { ops, bins, magnitudes: ops.map((o, s) => (o === 0 ? 0 : this.space.magnitudeBins[bins[s]!]!)), logProb, value };
  }

  observe(t: Transition): void {
    checkTransition(this.name, t, this.space, this.obsDim);
    this.buffer.add(t);
  }

  // ---- advantage

  /** GAE(λ) over the rollout; returns advantages and returns (advantage + V(s)). */
  private computeAdvantages(values: Float32Array, nextValues: Float32Array): { advantages: number[]; returns: number[] } {
    const { gamma, gaeLambda } = this.config;
    const items = this.buffer.items;
    const advantages = new Array<number>(items.length).fill(0);
    let lastGae = 0;
    for (let t = items.length - 1; t >= 0; t--) {
      const { reward, terminated, truncated } = items[t]!;
      const nextValue = terminated ? 0 : nextValues[t]!; // truncated: bootstrap from V(s')
      const delta = reward + gamma * nextValue - values[t]!;
      const episodeEnds = terminated || truncated;
      lastGae = delta + gamma * gaeLambda * (episodeEnds ? 0 : lastGae);
      advantages[t] = lastGae;
    }
    return { advantages, returns: advantages.map((a, t) => a + values[t]!) };
  }

  // ---- update

  async update(): Promise<Record<string, number>> {
    const c = this.config;
    if (this.buffer.length < c.numSteps) return {};
    const n = this.buffer.length;
    const batch = this.buffer.tensors();
    const batchNextObs = tf.tensor2d(this.buffer.items.map((t) => t.nextObservation), [n, this.obsDim], "float32");
    // old log-probs and values with the networks that acted
    const oldT = tf.tidy(() => {
      const { logProb } = this.actor.evaluate(batch.obs, batch.ops, batch.bins);
      const v = this.critic.apply(batch.obs).reshape([n]);
      const nv = this.critic.apply(batchNextObs).reshape([n]);
      return tf.stack([logProb, v, nv]); // [3 N]
    });
    const old = oldT.dataSync() as Float32Array;
    oldT.dispose();
    batchNextObs.dispose();
    const batchLogProbs = old.slice(0, n);
    const batchValues = old.slice(n, 2 * n);
    const { advantages: batchAdvantages, returns: batchReturns } = this.computeAdvantages(batchValues, old.slice(2 * n, 3 * n));

    const mbSize = Math.ceil(n / c.numMinibatches);
    const sums = { pgLoss: 0, vLoss: 0, entropy: 0, approxKl: 0, clipFrac: 0, gradNorm: 0 };
    let numMinibatches = 0;
    let approxKl = 0;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let epoch = 0; epoch < c.updateEpochs; epoch++) {
      this.rng.shuffle(order);
      for (let start = 0; start < n; start += mbSize) {
        const mbInds = order.slice(start, start + mbSize);
        const mb = this.buffer.tensors(mbInds);
        let mbAdv = mbInds.map((i) => batchAdvantages[i]!);
        if (c.normAdv && mbAdv.length > 1) {
          const mean = mbAdv.reduce((a, x) => a + x, 0) / mbAdv.length;
          const std = Math.sqrt(mbAdv.reduce((a, x) => a + (x - mean) ** 2, 0) / (mbAdv.length - 1));
          mbAdv = mbAdv.map((x) => (x - mean) / (std + 1e-8));
        }
        const mbAdvT = tf.tensor1d(mbAdv, "float32");
        const mbOldLogProbT = tf.tensor1d(mbInds.map((i) => batchLogProbs[i]!), "float32");
        const mbReturnsT = tf.tensor1d(mbInds.map((i) => batchReturns[i]!), "float32");
        const mbOldValuesT = tf.tensor1d(mbInds.map((i) => batchValues[i]!), "float32");
        let statsT: tf.Tensor | undefined;
        const { gradNorm } = this.optimizer.minimize(() => {
          const { logProb, entropy } = this.actor.evaluate(mb.obs, mb.ops, mb.bins);
          const logRatio = tf.sub(logProb, mbOldLogProbT);
          const ratio = tf.exp(logRatio);
          // policy loss: clipped surrogate
          const pgLoss1 = tf.mul(tf.neg(mbAdvT), ratio);
          const pgLoss2 = tf.mul(tf.neg(mbAdvT), tf.clipByValue(ratio, 1 - c.clipCoef, 1 + c.clipCoef));
          const pgLoss = tf.mean(tf.maximum(pgLoss1, pgLoss2));
          // value loss
          const newValue = this.critic.apply(mb.obs).reshape([-1]);
          let vLoss: tf.Tensor;
          if (c.clipVloss) {
            const vLossUnclipped = tf.square(tf.sub(newValue, mbReturnsT));
            const vClipped = tf.add(mbOldValuesT, tf.clipByValue(tf.sub(newValue, mbOldValuesT), -c.clipCoef, c.clipCoef));
            const vLossClipped = tf.square(tf.sub(vClipped, mbReturnsT));
            vLoss = tf.mul(0.5, tf.mean(tf.maximum(vLossUnclipped, vLossClipped)));
          } else {
            vLoss = tf.mul(0.5, tf.mean(tf.square(tf.sub(newValue, mbReturnsT))));
          }
          const entropyLoss = tf.mean(entropy);
          // diagnostics: approx KL (k3 estimator) and fraction of clipped ratios
          const mbApproxKl = tf.mean(tf.sub(tf.sub(ratio, 1), logRatio));
          const clipFrac = tf.mean(tf.greater(tf.abs(tf.sub(ratio, 1)), c.clipCoef).toFloat());
          statsT = tf.keep(tf.stack([pgLoss, vLoss, entropyLoss, mbApproxKl, clipFrac]));
          return tf.add(tf.sub(pgLoss, tf.mul(c.entCoef, entropyLoss)), tf.mul(c.vfCoef, vLoss)) as tf.Scalar;
        }, c.maxGradNorm);
        const [pg, vl, ent, kl, cf] = statsT!.dataSync();
        tf.dispose([statsT!, mb.obs, mb.ops, mb.bins, mbAdvT, mbOldLogProbT, mbReturnsT, mbOldValuesT]);
        sums.pgLoss += pg!;
        sums.vLoss += vl!;
        sums.entropy += ent!;
        sums.approxKl += kl!;
        sums.clipFrac += cf!;
        sums.gradNorm += gradNorm;
        numMinibatches++;
        approxKl = kl!;
      }
      if (c.targetKl > 0 && approxKl > c.targetKl) break; // early stop, as CleanRL's target_kl
    }
    tf.dispose([batch.obs, batch.ops, batch.bins]);

    const meanReturn = batchReturns.reduce((a, x) => a + x, 0) / n;
    const varReturn = batchReturns.reduce((a, x) => a + (x - meanReturn) ** 2, 0) / n;
    const residual = batchReturns.reduce((a, x, i) => a + (x - batchValues[i]! - (meanReturn - mean(batchValues))) ** 2, 0) / n;
    this.buffer.clear();
    this.numUpdates++;
    return {
      "losses/pgLoss": sums.pgLoss / numMinibatches,
      "losses/vLoss": sums.vLoss / numMinibatches,
      "losses/entropy": sums.entropy / numMinibatches,
      "losses/approxKl": sums.approxKl / numMinibatches,
      "losses/clipFrac": sums.clipFrac / numMinibatches,
      "losses/gradNorm": sums.gradNorm / numMinibatches,
      "losses/explainedVariance": varReturn === 0 ? NaN : 1 - residual / varReturn,
      "charts/numUpdates": this.numUpdates,
    };
  }

  /** Current op and bin probabilities for one observation. */
  probabilities(observation: Float32Array): { ops: number[]; bins: number[] } {
    return this.actor.probabilities(observation);
  }

  // ---- save / load

  save(): AgentState {
    return {
      ...stateHeader(this.name, this.space, this.obsDim, this.rng),
      config: this.config,
      actor: this.actor.net.weights(),
      critic: this.critic.weights(),
      optimizer: this.optimizer.state(),
      buffer: structuredClone(this.buffer.items),
      numUpdates: this.numUpdates,
    };
  }

  load(state: AgentState): void {
    const rng = checkStateHeader(this.name, this.space, this.obsDim, state, this.config);
    this.actor.net.setWeights(state.actor as number[][]);
    this.critic.setWeights(state.critic as number[][]);
    this.optimizer.restore(state.optimizer as AdamState);
    this.buffer.items = structuredClone(state.buffer as StoredTransition[]);
    this.numUpdates = state.numUpdates as number;
    this.rng = rng;
  }

  /** Frees the tf variables. */
  dispose(): void {
    this.actor.net.dispose();
    this.critic.dispose();
    this.optimizer.dispose();
  }
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length === 0 ? 0 : s / xs.length;
}
