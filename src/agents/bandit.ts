/**
 * `bandit`: a multi-armed bandit over (op × magnitude bin); identity is one arm whatever its bin.
 * Context-free: the observation is ignored. Two selection rules:
 *
 * - `ucb`: UCB1 (Auer et al., 2002): untried arms first, then argmax mean + c·σ̂·√(2 ln t / n).
 * - `thompson`: Gaussian Thompson sampling: draw μ ~ N(mean, σ̂² / (n + n₀)) per arm, take argmax.
 *
 * Deviations, both because the reward is a validation-metric change of unknown scale (~1e-3)
 * that drifts as training progresses:
 * - σ̂ is the running std of all rewards seen (1 before two rewards), so `ucbC` is scale-free;
 * - with `discount` < 1 all counts and sums decay every step (discounted UCB/TS,
 *   Garivier & Moulines 2011), so old evidence fades.
 *
 * With `slots` > 1 the top-`slots` distinct arms are chosen and each is credited the step's reward.
 */
import type { Rng } from "../core/rng.ts";
import { checkObservation, checkStateHeader, stateHeader, validateActionSpace, validateObsDim } from "./space.ts";
import type { Action, ActionSpace, Agent, AgentState, Transition } from "./types.ts";

export interface BanditConfig {
  /** Selection rule: `"ucb"` (UCB1) or `"thompson"` (Gaussian Thompson sampling). Default `"thompson"`. */
  algorithm: "ucb" | "thompson";
  /** UCB exploration coefficient c (in units of the reward std). Default 1. */
  ucbC: number;
  /** Thompson prior pseudo-count n₀ at mean 0 (larger = more exploration early). Default 1. */
  priorCount: number;
  /** Per-step decay of arm statistics in (0,1]; 1 = stationary bandit. Default 0.99. */
  discount: number;
}

export const DEFAULT_BANDIT_CONFIG: BanditConfig = { algorithm: "thompson", ucbC: 1, priorCount: 1, discount: 0.99 };

/** One arm's statistics, as reported by {@link BanditAgent.arms}. */
export interface ArmStats {
  op: number;
  bin: number;
  /** (Discounted) number of pulls. */
  count: number;
  /** (Discounted) mean reward; 0 if never pulled. */
  mean: number;
}

export class BanditAgent implements Agent {
  readonly name = "bandit";
  readonly config: BanditConfig;
  private rng: Rng;
  /** Arm a → (op, bin); arm 0 is identity. */
  private readonly armOp: number[] = [0];
  private readonly armBin: number[] = [0];
  private counts: number[];
  private sums: number[];
  /** Welford running stats of all rewards (for σ̂). */
  private rewardCount = 0;
  private rewardMean = 0;
  private rewardM2 = 0;

  constructor(config: Partial<BanditConfig>, readonly space: ActionSpace, readonly obsDim: number, rng: Rng) {
    validateActionSpace(space);
    validateObsDim(obsDim);
    this.config = { ...DEFAULT_BANDIT_CONFIG, ...config };
    const { algorithm, ucbC, priorCount, discount } = this.config;
    if (algorithm !== "ucb" && algorithm !== "thompson") throw new Error(`bandit: \`params.algorithm\` must be "ucb" or "thompson", got ${JSON.stringify(algorithm)}`);
    if (!(ucbC >= 0)) throw new Error(`bandit: \`params.ucbC\` must be ≥ 0, got ${ucbC}`);
    if (!(priorCount > 0)) throw new Error(`bandit: \`params.priorCount\` must be > 0, got ${priorCount}`);
    if (!(discount > 0 && discount <= 1)) throw new Error(`bandit: \`params.discount\` must be in (0,1], got ${discount}`);
    this.rng = rng;
    for (let op = 1; op < space.ops.length; op++) {
      for (let bin = 0; bin < space.magnitudeBins.length; bin++) {
        this.armOp.push(op);
        this.armBin.push(bin);
      }
    }
    this.counts = new Array<number>(this.armOp.length).fill(0);
    this.sums = new Array<number>(this.armOp.length).fill(0);
  }

  /** σ̂: std of all rewards so far (1 until two rewards were seen). */
  private rewardScale(): number {
    return this.rewardCount < 2 ? 1 : Math.sqrt(this.rewardM2 / (this.rewardCount - 1));
  }

  act(observation: Float32Array): Action {
    checkObservation(this.name, observation, this.obsDim);
    const { algorithm, ucbC, priorCount } = this.config;
    const scale = this.rewardScale();
    const total = this.counts.reduce((a, n) => a + n, 0);
    const scores = this.counts.map((n, a) => {
      if (algorithm === "ucb") {
        return n === 0 ? Infinity : this.sums[a]! / n + ucbC * scale * Math.sqrt((2 * Math.log(Math.max(total, 1))) / n);
      }
      const mean = this.sums[a]! / (n + priorCount);
      return this.rng.normal(mean, scale / Math.sqrt(n + priorCount));
    });
    // Random order first so that ties (e.g. untried arms) are broken by the agent's Rng.
    const order = this.rng.shuffle(scores.map((_, a) => a)).sort((a, b) => (scores[a] === scores[b] ? 0 : scores[a]! > scores[b]! ? -1 : 1));
    const chosen = Array.from({ length: this.space.slots }, (_, s) => order[Math.min(s, order.length - 1)]!);
    const ops = chosen.map((a) => this.armOp[a]!);
    const bins = chosen.map((a) => this.armBin[a]!);
    return { ops, bins, magnitudes: ops.map((o, s) => (o === 0 ? 0 : this.space.magnitudeBins[bins[s]!]!)) };
  }

  observe(t: Transition): void {
    const { discount } = this.config;
    for (let a = 0; a < this.counts.length; a++) {
      this.counts[a]! *= discount;
      this.sums[a]! *= discount;
    }
    const nb = this.space.magnitudeBins.length;
    for (let s = 0; s < t.action.ops.length; s++) {
      const op = t.action.ops[s]!;
      const arm = op === 0 ? 0 : 1 + (op - 1) * nb + t.action.bins[s]!;
      this.counts[arm]! += 1;
      this.sums[arm]! += t.reward;
    }
    this.rewardCount++;
    const d = t.reward - this.rewardMean;
    this.rewardMean += d / this.rewardCount;
    this.rewardM2 += d * (t.reward - this.rewardMean);
  }

  /** Bandits learn in `observe`; `update` only reports the current best arm. */
  async update(): Promise<Record<string, number>> {
    const arms = this.arms();
    const best = arms.reduce((b, a) => (a.mean > b.mean && a.count > 0 ? a : b), arms[0]!);
    return { "bandit/bestOp": best.op, "bandit/bestBin": best.bin, "bandit/bestMean": best.mean, "bandit/rewardScale": this.rewardScale() };
  }

  /** Per-arm statistics (for reports and the monitor). */
  arms(): ArmStats[] {
    return this.counts.map((n, a) => ({ op: this.armOp[a]!, bin: this.armBin[a]!, count: n, mean: n > 0 ? this.sums[a]! / n : 0 }));
  }

  save(): AgentState {
    return {
      ...stateHeader(this.name, this.space, this.obsDim, this.rng),
      config: this.config,
      counts: [...this.counts],
      sums: [...this.sums],
      rewardStats: [this.rewardCount, this.rewardMean, this.rewardM2],
    };
  }

  load(state: AgentState): void {
    const rng = checkStateHeader(this.name, this.space, this.obsDim, state, this.config);
    const counts = state.counts as number[];
    const sums = state.sums as number[];
    if (counts.length !== this.counts.length || sums.length !== this.sums.length) {
      throw new Error(`bandit.load: state has ${counts.length} arms, this agent has ${this.counts.length}`);
    }
    this.rng = rng;
    this.counts = [...counts];
    this.sums = [...sums];
    [this.rewardCount, this.rewardMean, this.rewardM2] = state.rewardStats as [number, number, number];
  }
}
