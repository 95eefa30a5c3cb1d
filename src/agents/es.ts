/**
 * `es`: an evolution strategy over an augmentation schedule that learns from *paired episodes*.
 *
 * The policy is a schedule: per training phase (progress observation[0]), logits over ops and
 * over magnitude bins, starting uniform (all zeros = TrivialAugment). Episodes come in antithetic
 * pairs (Salimans et al., 2017): for pair k a noise vector εₖ is drawn and episode 2k acts with
 * logits θ + σεₖ, episode 2k+1 with θ − σεₖ. The two episodes of a pair are played from the same
 * env seed (same initial weights, data order, dropout and negatives; `episodeGroup` = 2 tells the
 * run loop) and draw their actions from the same uniform stream, so their returns differ mostly
 * by the perturbation — common random numbers, the paired comparison that a per-step reward
 * (sd ≈ 4× the effect) cannot give. The fitness is the episode return, which for a `delta`
 * reward is the rise of the reward metric over the episode.
 *
 * Update after each pair: θ ← θ + lr · clip(d / rms(d), ±3) · εₖ with d = R⁺ − R⁻ and rms a
 * moving RMS of earlier differences, so the step size does not depend on the reward's scale.
 *
 * Exported policy: the mean schedule θ (see {@link esSchedule}), not the actions of the last
 * (perturbed) episode.
 */
import { Rng } from "../core/rng.ts";
import { actionLogProb } from "./policy.ts";
import type { Schedule } from "./schedule.ts";
import { checkObservation, checkStateHeader, stateHeader, validateActionSpace, validateObsDim } from "./space.ts";
import type { Action, ActionSpace, Agent, AgentState, Transition } from "./types.ts";

export interface EsConfig {
  /** Training phases of the schedule (equal slices of progress). Default 2. */
  phases: number;
  /** Std of the logit perturbation. Default 0.5. */
  sigma: number;
  /** Step size on the logits per pair (times the normalised return difference). Default 0.1. */
  learningRate: number;
  /** rms² ← decay·rms² + (1−decay)·d². Default 0.9. */
  rmsDecay: number;
}

export const DEFAULT_ES_CONFIG: EsConfig = { phases: 2, sigma: 0.5, learningRate: 0.1, rmsDecay: 0.9 };

/** A normalised difference beyond this many RMS is clipped (one lucky pair must not dominate). */
const CLIP = 3;

export class EsAgent implements Agent {
  readonly name = "es";
  /** Episodes 2k and 2k+1 are one antithetic pair: the run loop plays them from the same env seed. */
  readonly episodeGroup = 2;
  readonly config: EsConfig;
  private rng: Rng;
  /** Logits, phase-major: per phase `ops.length` op logits then `magnitudeBins.length` bin logits. */
  private theta: number[];
  /** Seed of the noise vectors: εₖ depends only on it and k, so every copy of the agent agrees. */
  private noiseSeed: number;
  /** Episode this agent acts in (frozen copies) or observes next (the learner). */
  private episode = 0;
  private stepInEpisode = 0;
  private episodeReturn = 0;
  /** Return of the pair's first (θ + σε) episode, once it has ended. */
  private plusReturn: number | null = null;
  private rmsSq: number | null = null;
  private numUpdates = 0;
  /** The action stream at the start of a pair's first episode, replayed by its second (sequential play). */
  private pairStartRng: AgentState["rng"] | null = null;
  private pendingUpdate: { pair: number; diff: number } | null = null;
  private noiseCache: { pair: number; eps: number[] } | null = null;
  private readonly width: number;

  constructor(config: Partial<EsConfig>, readonly space: ActionSpace, readonly obsDim: number, rng: Rng) {
    validateActionSpace(space);
    validateObsDim(obsDim);
    this.config = { ...DEFAULT_ES_CONFIG, ...config };
    const c = this.config;
    if (!(Number.isInteger(c.phases) && c.phases >= 1)) throw new Error(`es: \`params.phases\` must be an integer ≥ 1, got ${c.phases}`);
    if (!(c.sigma > 0)) throw new Error(`es: \`params.sigma\` must be > 0, got ${c.sigma}`);
    if (!(c.learningRate > 0)) throw new Error(`es: \`params.learningRate\` must be > 0, got ${c.learningRate}`);
    if (!(c.rmsDecay >= 0 && c.rmsDecay < 1)) throw new Error(`es: \`params.rmsDecay\` must be in [0,1), got ${c.rmsDecay}`);
    this.rng = rng;
    this.width = space.ops.length + space.magnitudeBins.length;
    this.theta = new Array(c.phases * this.width).fill(0);
    this.noiseSeed = rng.int(2 ** 31);
  }

  /** εₖ: standard normal, one entry per logit. */
  private noise(pair: number): number[] {
    if (this.noiseCache?.pair !== pair) {
      const r = new Rng(this.noiseSeed, "es-noise").child(`pair-${pair}`);
      this.noiseCache = { pair, eps: this.theta.map(() => r.normal()) };
    }
    return this.noiseCache.eps;
  }

  /** Op and bin probabilities of `phase` under logits θ + sign·σ·ε (sign 0: the mean policy). */
  private probs(phase: number, sign: number): { ops: number[]; bins: number[] } {
    const eps = sign === 0 ? null : this.noise(this.episode >> 1);
    const base = phase * this.width;
    const logits = Array.from({ length: this.width }, (_, i) => this.theta[base + i]! + (eps ? sign * this.config.sigma * eps[base + i]! : 0));
    const nOps = this.space.ops.length;
    return { ops: softmax(logits.slice(0, nOps)), bins: softmax(logits.slice(nOps)) };
  }

  private phaseOf(progress: number): number {
    return Math.min(this.config.phases - 1, Math.max(0, Math.floor(progress * this.config.phases)));
  }

  act(observation: Float32Array): Action {
    checkObservation(this.name, observation, this.obsDim);
    if (this.stepInEpisode === 0 && this.episode % 2 === 0) this.pairStartRng = this.rng.state();
    const p = this.probs(this.phaseOf(observation[0]!), this.episode % 2 === 0 ? 1 : -1);
    const ops: number[] = [];
    const bins: number[] = [];
    for (let s = 0; s < this.space.slots; s++) {
      ops.push(this.rng.categorical(p.ops));
      bins.push(this.rng.categorical(p.bins));
    }
    this.stepInEpisode++;
    return { ops, bins, magnitudes: ops.map((o, s) => (o === 0 ? 0 : this.space.magnitudeBins[bins[s]!]!)), logProb: actionLogProb(p.ops, p.bins, ops, bins) };
  }

  observe(t: Transition): void {
    this.episodeReturn += t.reward;
    if (!(t.terminated || t.truncated)) return;
    if (this.episode % 2 === 0) {
      this.plusReturn = this.episodeReturn;
      // Played in sequence, the second episode of the pair replays the first one's uniforms.
      if (this.pairStartRng) this.rng = Rng.restore(this.pairStartRng);
    } else if (this.plusReturn !== null) {
      this.pendingUpdate = { pair: this.episode >> 1, diff: this.plusReturn - this.episodeReturn };
      this.plusReturn = null;
    }
    this.pairStartRng = null;
    this.episode++;
    this.stepInEpisode = 0;
    this.episodeReturn = 0;
  }

  async update(): Promise<Record<string, number>> {
    if (!this.pendingUpdate) return {};
    const { pair, diff } = this.pendingUpdate;
    this.pendingUpdate = null;
    const c = this.config;
    this.rmsSq = this.rmsSq === null ? diff * diff : c.rmsDecay * this.rmsSq + (1 - c.rmsDecay) * diff * diff;
    const rms = Math.sqrt(this.rmsSq);
    const z = rms > 0 ? Math.max(-CLIP, Math.min(CLIP, diff / rms)) : 0;
    const eps = this.noise(pair);
    this.theta = this.theta.map((v, i) => v + c.learningRate * z * eps[i]!);
    this.numUpdates++;
    let entropy = 0;
    for (let ph = 0; ph < c.phases; ph++) entropy += this.probs(ph, 0).ops.reduce((a, q) => a - (q > 0 ? q * Math.log(q) : 0), 0) / c.phases;
    return { "es/returnDiff": diff, "es/rms": rms, "es/step": z, "losses/entropy": entropy, "charts/numUpdates": this.numUpdates };
  }

  /** The mean policy θ as a schedule (op and magnitude distribution per phase). */
  schedule(): Schedule {
    return esSchedule(this.save());
  }

  save(): AgentState {
    return {
      ...stateHeader(this.name, this.space, this.obsDim, this.rng),
      config: this.config,
      theta: [...this.theta],
      noiseSeed: this.noiseSeed,
      episode: this.episode,
      stepInEpisode: this.stepInEpisode,
      episodeReturn: this.episodeReturn,
      plusReturn: this.plusReturn,
      rmsSq: this.rmsSq,
      numUpdates: this.numUpdates,
      pairStartRng: this.pairStartRng,
      pendingUpdate: this.pendingUpdate,
    };
  }

  /**
   * Exact restore. A parallel round's episode copy gets the shared state with its own `episode`
   * (see cli/parallel.ts), which tells it which side of the pair it plays.
   */
  load(state: AgentState): void {
    const rng = checkStateHeader(this.name, this.space, this.obsDim, state, this.config);
    const theta = state.theta as number[];
    if (!Array.isArray(theta) || theta.length !== this.theta.length) throw new Error(`es.load: \`theta\` must have ${this.theta.length} entries, got ${Array.isArray(theta) ? theta.length : typeof theta}`);
    this.theta = [...theta];
    this.noiseSeed = state.noiseSeed as number;
    this.noiseCache = null;
    this.episode = state.episode as number;
    this.stepInEpisode = state.stepInEpisode as number;
    this.episodeReturn = state.episodeReturn as number;
    this.plusReturn = state.plusReturn as number | null;
    this.rmsSq = state.rmsSq as number | null;
    this.numUpdates = state.numUpdates as number;
    this.pairStartRng = (state.pairStartRng ?? null) as AgentState["rng"] | null;
    this.pendingUpdate = (state.pendingUpdate ?? null) as { pair: number; diff: number } | null;
    this.rng = rng;
  }
}

/** The mean schedule of a saved `es` state: per phase, softmax(θ) over ops and over magnitude bins. */
export function esSchedule(state: AgentState): Schedule {
  if (state.agent !== "es") throw new Error(`esSchedule: state is for agent ${JSON.stringify(state.agent)}, not es`);
  const { phases } = state.config as EsConfig;
  const { ops, magnitudeBins } = state.space;
  const theta = state.theta as number[];
  const width = ops.length + magnitudeBins.length;
  return {
    phases: Array.from({ length: phases }, (_, ph) => {
      const logits = theta.slice(ph * width, (ph + 1) * width);
      const opProbs = softmax(logits.slice(0, ops.length));
      const binProbs = softmax(logits.slice(ops.length));
      const magnitudes = Object.fromEntries(magnitudeBins.map((m, b) => [String(m), binProbs[b]!]));
      return {
        until: ph === phases - 1 ? 1 : (ph + 1) / phases,
        ops: ops.map((op, i) => ({ op, prob: opProbs[i]!, magnitudes: i === 0 ? {} : magnitudes })),
      };
    }),
  };
}

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}
