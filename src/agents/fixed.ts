/**
 * `fixed`: always the same op at the same magnitude (slot 0; other slots get identity).
 * The hand-tuned-augmentation baseline, e.g. "crop at 0.3 on every batch".
 */
import type { Rng } from "../core/rng.ts";
import { nearestBin, opIndex } from "./space.ts";
import { StatelessAgent } from "./stateless.ts";
import type { Action, ActionSpace } from "./types.ts";

export interface FixedConfig {
  /** Op name; must be in the env's op list. Default `"identity"`. */
  op: string;
  /** Magnitude in [0,1], applied as given (the action reports the nearest bin). Default 0.2. */
  magnitude: number;
}

export const DEFAULT_FIXED_CONFIG: FixedConfig = { op: "identity", magnitude: 0.2 };

export class FixedAgent extends StatelessAgent<FixedConfig> {
  readonly name = "fixed";
  private readonly op: number;

  constructor(config: Partial<FixedConfig>, space: ActionSpace, obsDim: number, rng: Rng) {
    super({ ...DEFAULT_FIXED_CONFIG, ...config }, space, obsDim, rng);
    const { op, magnitude } = this.config;
    this.op = opIndex(space, op, "params.op");
    if (!(magnitude >= 0 && magnitude <= 1)) throw new Error(`fixed: \`params.magnitude\` must be in [0,1], got ${magnitude}`);
  }

  protected choose(): Action {
    const { slots } = this.space;
    const ops = new Array<number>(slots).fill(0);
    const bins = new Array<number>(slots).fill(0);
    const magnitudes = new Array<number>(slots).fill(0);
    ops[0] = this.op;
    bins[0] = nearestBin(this.space, this.config.magnitude);
    magnitudes[0] = this.op === 0 ? 0 : this.config.magnitude;
    return { ops, bins, magnitudes };
  }
}
