/**
 * Shared tfjs pieces of the learned agents (`reinforce`, `ppo`): a small tanh MLP, the
 * factored categorical policy (one head over ops, one over magnitude bins), a hand-written Adam
 * whose slots can be saved synchronously, and the rollout buffer.
 *
 * Why a hand-written Adam: `tf.train.adam`'s `getWeights()` is async, but `Agent.save()` is
 * synchronous; ~20 lines of Adam keep save/load exact and simple. It is not the model's
 * src/tf/adam.ts because an agent's state is plain JSON (number arrays, see `AgentState`), while
 * that one's holds Float32Arrays keyed by variable name (checkpoints encode them as base64), and
 * because the agents clip the global gradient norm inside the step (`maxGradNorm`).
 *
 * Determinism: initialisers are seeded from the agent's Rng (`rng.tfSeed()`); actions are
 * sampled on the JS side with the Rng from the probabilities, never with `tf.multinomial`.
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../core/rng.ts";
import type { ActionSpace, Transition } from "./types.ts";

// ---------------------------------------------------------------- network

/** A tanh MLP `sizes[0] → … → sizes[n-1]` (linear output), weights as tf variables. */
export class Mlp {
  readonly vars: tf.Variable[] = [];

  /** `outGain` scales the last layer's init (0.01 for a policy head → near-uniform start). */
  constructor(readonly sizes: number[], rng: Rng, outGain = 1) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const gain = l + 2 === sizes.length ? outGain : 1;
      const init = tf.initializers.glorotUniform({ seed: rng.tfSeed() });
      this.vars.push(tf.variable(tf.tidy(() => init.apply([sizes[l]!, sizes[l + 1]!]).mul(gain))));
      this.vars.push(tf.variable(tf.zeros([sizes[l + 1]!])));
    }
  }

  /** [N, sizes[0]] → [N, sizes[n-1]]. Call inside tf.tidy. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    for (let l = 0; l < this.vars.length; l += 2) {
      h = tf.add(tf.matMul(h, this.vars[l] as tf.Tensor2D), this.vars[l + 1]!);
      if (l + 2 < this.vars.length) h = tf.tanh(h);
    }
    return h;
  }

  weights(): number[][] {
    return this.vars.map((v) => Array.from(v.dataSync()));
  }

  setWeights(ws: number[][]): void {
    if (ws.length !== this.vars.length) throw new Error(`Mlp.setWeights: got ${ws.length} arrays for ${this.vars.length} variables`);
    this.vars.forEach((v, i) => {
      if (ws[i]!.length !== v.size) throw new Error(`Mlp.setWeights: array ${i} has ${ws[i]!.length} values, variable has shape [${v.shape}]`);
      v.assign(tf.tensor(ws[i]!, v.shape, "float32"));
    });
  }

  dispose(): void {
    this.vars.forEach((v) => v.dispose());
  }
}

// ---------------------------------------------------------------- policy

/** Factored categorical policy: per slot, op ~ Cat(softmax(opLogits)), bin ~ Cat(softmax(binLogits)). */
export class FactoredPolicy {
  readonly net: Mlp;
  readonly numOps: number;
  readonly numBins: number;

  constructor(readonly space: ActionSpace, obsDim: number, hiddenSizes: number[], rng: Rng) {
    this.numOps = space.ops.length;
    this.numBins = space.magnitudeBins.length;
    this.net = new Mlp([obsDim, ...hiddenSizes, this.numOps + this.numBins], rng, 0.01);
  }

  /** Logits split into [N, numOps] and [N, numBins]. Call inside tf.tidy. */
  logits(obs: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const out = this.net.apply(obs);
    return [out.slice([0, 0], [-1, this.numOps]), out.slice([0, this.numOps], [-1, this.numBins])];
  }

  /**
   * Samples one action for one observation with the JS-side Rng; returns indices, the log-prob
   * and the probabilities sampled from (to score other actions without another forward pass).
   */
  sample(obs: Float32Array, rng: Rng): { ops: number[]; bins: number[]; logProb: number; opProbs: Float32Array; binProbs: Float32Array } {
    const probsT = tf.tidy(() => {
      const [opLogits, binLogits] = this.logits(tf.tensor2d(obs, [1, obs.length]));
      return tf.concat([tf.softmax(opLogits), tf.softmax(binLogits)], 1); // [1, O+B]
    });
    const probs = probsT.dataSync() as Float32Array;
    probsT.dispose();
    const opProbs = probs.subarray(0, this.numOps);
    const binProbs = probs.subarray(this.numOps);
    const ops: number[] = [];
    const bins: number[] = [];
    for (let s = 0; s < this.space.slots; s++) {
      ops.push(rng.categorical(opProbs));
      bins.push(rng.categorical(binProbs));
    }
    return { ops, bins, logProb: actionLogProb(opProbs, binProbs, ops, bins), opProbs, binProbs };
  }

  /**
   * Log-prob of the taken actions [N] and entropy per sample [N] (H(op) + H(bin), one slot).
   * The bin of an identity slot does not count (its magnitude is unused). Inside tf.tidy.
   * `ops`, `bins`: int32 [N, slots].
   */
  evaluate(obs: tf.Tensor2D, ops: tf.Tensor2D, bins: tf.Tensor2D): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    const [opLogits, binLogits] = this.logits(obs);
    const opLogp = tf.logSoftmax(opLogits); // [N O]
    const binLogp = tf.logSoftmax(binLogits); // [N B]
    // one-hot products instead of gather: gather's gradient is slow on the cpu backend
    const opOneHot = tf.oneHot(ops, this.numOps).toFloat(); // [N S O]
    const binOneHot = tf.oneHot(bins, this.numBins).toFloat(); // [N S B]
    const slotOpLogp = tf.sum(tf.mul(opOneHot, opLogp.expandDims(1)), 2); // [N S]
    const slotBinLogp = tf.sum(tf.mul(binOneHot, binLogp.expandDims(1)), 2); // [N S]
    const augmented = tf.notEqual(ops, 0).toFloat(); // [N S]
    const logProb = tf.sum(tf.add(slotOpLogp, tf.mul(augmented, slotBinLogp)), 1) as tf.Tensor1D;
    const entropyOf = (logp: tf.Tensor2D) => tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1));
    const entropy = tf.add(entropyOf(opLogp), entropyOf(binLogp)) as tf.Tensor1D;
    return { logProb, entropy };
  }

  /** Probabilities of each op and bin for one observation (for reports and tests). */
  probabilities(obs: Float32Array): { ops: number[]; bins: number[] } {
    const probsT = tf.tidy(() => {
      const [opLogits, binLogits] = this.logits(tf.tensor2d(obs, [1, obs.length]));
      return tf.concat([tf.softmax(opLogits), tf.softmax(binLogits)], 1);
    });
    const p = Array.from(probsT.dataSync());
    probsT.dispose();
    return { ops: p.slice(0, this.numOps), bins: p.slice(this.numOps) };
  }
}

/**
 * Log-probability of one action (`ops`, `bins` per slot) under per-slot op and bin
 * probabilities; the bin of an identity slot does not count (its magnitude is unused).
 */
export function actionLogProb(opProbs: ArrayLike<number>, binProbs: ArrayLike<number>, ops: ReadonlyArray<number>, bins: ReadonlyArray<number>): number {
  return ops.reduce((lp, op, s) => lp + (Math.log(opProbs[op]!) + (op === 0 ? 0 : Math.log(binProbs[bins[s]!]!))), 0);
}

// ---------------------------------------------------------------- optimizer

/** Saved Adam state: step count and first/second moments per variable. */
export interface AdamState {
  step: number;
  m: number[][];
  v: number[][];
}

/** Adam (Kingma & Ba, 2015) with optional global-norm gradient clipping, as in `torch.optim.Adam` + `clip_grad_norm_`. */
export class Adam {
  private step = 0;
  private m: tf.Variable[];
  private v: tf.Variable[];

  constructor(private readonly vars: tf.Variable[], readonly learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /**
   * Minimises `loss()` (a scalar built from `vars`) by one step; returns the loss value and the
   * gradient norm before clipping. `maxGradNorm` ≤ 0 disables clipping.
   */
  minimize(loss: () => tf.Scalar, maxGradNorm: number): { loss: number; gradNorm: number } {
    this.step++;
    const { value, grads } = tf.variableGrads(loss, this.vars);
    const result = tf.tidy(() => {
      const g = this.vars.map((x) => grads[x.name]!);
      const norm = tf.sqrt(tf.addN(g.map((gi) => tf.sum(tf.square(gi)))));
      const scale = maxGradNorm > 0 ? tf.minimum(1, tf.div(maxGradNorm, tf.add(norm, 1e-6))) : tf.scalar(1);
      const lrT = this.learningRate * Math.sqrt(1 - this.beta2 ** this.step) / (1 - this.beta1 ** this.step);
      g.forEach((gi, i) => {
        const gc = tf.mul(gi, scale);
        this.m[i]!.assign(tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(gc, 1 - this.beta1)));
        this.v[i]!.assign(tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(gc), 1 - this.beta2)));
        this.vars[i]!.assign(tf.sub(this.vars[i]!, tf.div(tf.mul(this.m[i]!, lrT), tf.add(tf.sqrt(this.v[i]!), this.epsilon))));
      });
      return tf.stack([value, norm]);
    });
    const [l, n] = result.dataSync();
    result.dispose();
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    return { loss: l!, gradNorm: n! };
  }

  state(): AdamState {
    return { step: this.step, m: this.m.map((x) => Array.from(x.dataSync())), v: this.v.map((x) => Array.from(x.dataSync())) };
  }

  restore(s: AdamState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) throw new Error(`Adam.restore: state has ${s.m.length} slots, optimizer has ${this.m.length}`);
    this.step = s.step;
    this.m.forEach((x, i) => x.assign(tf.tensor(s.m[i]!, x.shape, "float32")));
    this.v.forEach((x, i) => x.assign(tf.tensor(s.v[i]!, x.shape, "float32")));
  }

  dispose(): void {
    [...this.m, ...this.v].forEach((x) => x.dispose());
  }
}

// ---------------------------------------------------------------- rollout buffer

/** A stored transition in JSON form (typed arrays → number arrays). */
export interface StoredTransition {
  observation: number[];
  ops: number[];
  bins: number[];
  reward: number;
  nextObservation: number[];
  terminated: boolean;
  truncated: boolean;
}

/** Experience collected since the last update, shared by REINFORCE and PPO. */
export class RolloutBuffer {
  items: StoredTransition[] = [];

  add(t: Transition): void {
    this.items.push({
      observation: Array.from(t.observation),
      ops: [...t.action.ops],
      bins: [...t.action.bins],
      reward: t.reward,
      nextObservation: Array.from(t.nextObservation),
      terminated: t.terminated,
      truncated: t.truncated,
    });
  }

  get length(): number {
    return this.items.length;
  }

  clear(): void {
    this.items = [];
  }

  /** Batch tensors over `idx` (default all): obs [N D], ops/bins int32 [N S]. Caller disposes (or tidies). */
  tensors(idx: number[] = this.items.map((_, i) => i)): { obs: tf.Tensor2D; ops: tf.Tensor2D; bins: tf.Tensor2D } {
    const rows = idx.map((i) => this.items[i]!);
    return {
      obs: tf.tensor2d(rows.map((r) => r.observation), undefined, "float32"),
      ops: tf.tensor2d(rows.map((r) => r.ops), undefined, "int32"),
      bins: tf.tensor2d(rows.map((r) => r.bins), undefined, "int32"),
    };
  }
}

/** Throws unless `t` fits the space and observation size (a wrong action would corrupt learning silently). */
export function checkTransition(agent: string, t: Transition, space: ActionSpace, obsDim: number): void {
  if (t.observation.length !== obsDim || t.nextObservation.length !== obsDim) {
    throw new Error(`${agent}.observe: observation lengths ${t.observation.length}/${t.nextObservation.length} do not match \`obsDim\` ${obsDim}`);
  }
  const { ops, bins } = t.action;
  if (ops.length !== space.slots || bins.length !== space.slots) {
    throw new Error(`${agent}.observe: action has ${ops.length} ops and ${bins.length} bins, the space has ${space.slots} slots`);
  }
  if (ops.some((o) => !(Number.isInteger(o) && o >= 0 && o < space.ops.length)) || bins.some((b) => !(Number.isInteger(b) && b >= 0 && b < space.magnitudeBins.length))) {
    throw new Error(`${agent}.observe: action indices out of range: ops ${JSON.stringify(ops)}, bins ${JSON.stringify(bins)}`);
  }
  if (!Number.isFinite(t.reward)) throw new Error(`${agent}.observe: \`reward\` must be finite, got ${t.reward}`);
}
