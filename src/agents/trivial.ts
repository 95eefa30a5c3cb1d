/**
 * `trivial`: TrivialAugment (Müller & Hutter, ICCV 2021): each step one op drawn uniformly
 * (identity included), at a magnitude bin drawn uniformly. No hyper-parameters to tune.
 * Slots after the first get identity.
 */
import type { Rng } from "../core/rng.ts";
import { actionFromBins } from "./space.ts";
import { StatelessAgent } from "./stateless.ts";
import type { Action, ActionSpace } from "./types.ts";

export interface TrivialConfig {
  /** Whether "identity" is among the candidate ops (TrivialAugment includes it). Default true. */
  includeIdentity: boolean;
}

export const DEFAULT_TRIVIAL_CONFIG: TrivialConfig = { includeIdentity: true };

export class TrivialAgent extends StatelessAgent<TrivialConfig> {
  readonly name = "trivial";

  constructor(config: Partial<TrivialConfig>, space: ActionSpace, obsDim: number, rng: Rng) {
    super({ ...DEFAULT_TRIVIAL_CONFIG, ...config }, space, obsDim, rng);
    if (!this.config.includeIdentity && space.ops.length < 2) {
      throw new Error(`trivial: \`params.includeIdentity\` is false but the space has no other op; add ops to the env`);
    }
  }

  protected choose(): Action {
    const { slots, ops, magnitudeBins } = this.space;
    const first = this.config.includeIdentity ? this.rng.int(ops.length) : 1 + this.rng.int(ops.length - 1);
    const bin = this.rng.int(magnitudeBins.length);
    const opIdx = Array.from({ length: slots }, (_, i) => (i === 0 ? first : 0));
    return actionFromBins(this.space, opIdx, opIdx.map(() => bin));
  }
}
