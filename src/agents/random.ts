/**
 * `random`: RandAugment (Cubuk et al., 2020): each step applies `n` ops drawn uniformly (with
 * replacement) from the op list, all at the same global magnitude `magnitude`. The search
 * space is just (n, magnitude). Slots beyond `n` get identity. Deviation: the magnitude is a
 * value in [0,1] (the env's op scale) rather than an integer 0–30.
 */
import type { Rng } from "../core/rng.ts";
import { nearestBin } from "./space.ts";
import { StatelessAgent } from "./stateless.ts";
import type { Action, ActionSpace } from "./types.ts";

export interface RandomConfig {
  /** Ops applied per step (N); at most the env's `slots`. Default: the env's `slots` (0 = that). */
  n: number;
  /** Global magnitude M in [0,1]. Default 0.3. */
  magnitude: number;
  /** Whether "identity" is among the candidate ops (as in RandAugment). Default true. */
  includeIdentity: boolean;
}

export const DEFAULT_RANDOM_CONFIG: RandomConfig = { n: 0, magnitude: 0.3, includeIdentity: true };

export class RandomAgent extends StatelessAgent<RandomConfig> {
  readonly name = "random";
  private readonly n: number;
  private readonly candidates: number[];

  constructor(config: Partial<RandomConfig>, space: ActionSpace, obsDim: number, rng: Rng) {
    super({ ...DEFAULT_RANDOM_CONFIG, ...config }, space, obsDim, rng);
    const { n, magnitude, includeIdentity } = this.config;
    this.n = n === 0 ? space.slots : n;
    if (!Number.isInteger(this.n) || this.n < 1 || this.n > space.slots) {
      throw new Error(`random: \`params.n\` must be an integer in [1, slots=${space.slots}] (or 0 for slots), got ${n}; raise the env's slots or lower n`);
    }
    if (!(magnitude >= 0 && magnitude <= 1)) throw new Error(`random: \`params.magnitude\` must be in [0,1], got ${magnitude}`);
    this.candidates = space.ops.map((_, i) => i).filter((i) => includeIdentity || i !== 0);
    if (this.candidates.length === 0) throw new Error(`random: \`params.includeIdentity\` is false but the space has no other op; add ops to the env`);
  }

  protected choose(): Action {
    const { slots } = this.space;
    const bin = nearestBin(this.space, this.config.magnitude);
    const ops = Array.from({ length: slots }, (_, i) => (i < this.n ? this.rng.pick(this.candidates) : 0));
    return { ops, bins: ops.map(() => bin), magnitudes: ops.map((o) => (o === 0 ? 0 : this.config.magnitude)) };
  }
}
