/** `none`: never augments: every slot gets `"identity"` with magnitude 0. The no-augmentation baseline. */
import type { Rng } from "../core/rng.ts";
import { StatelessAgent } from "./stateless.ts";
import type { Action, ActionSpace } from "./types.ts";

/** `none` has no hyper-parameters. */
export interface NoneConfig {}

export const DEFAULT_NONE_CONFIG: NoneConfig = {};

export class NoneAgent extends StatelessAgent<NoneConfig> {
  readonly name = "none";

  constructor(config: Partial<NoneConfig>, space: ActionSpace, obsDim: number, rng: Rng) {
    super({ ...DEFAULT_NONE_CONFIG, ...config }, space, obsDim, rng);
  }

  protected choose(): Action {
    const zeros = new Array<number>(this.space.slots).fill(0);
    return { ops: zeros, bins: [...zeros], magnitudes: [...zeros] };
  }
}
