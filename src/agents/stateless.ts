/**
 * Base for agents that do not learn (`none`, `fixed`, `random`, `trivial`, `schedule`):
 * `observe` and `update` do nothing; the saved state is the header (space, obsDim, rng) plus
 * the config, so a resumed run draws the same actions.
 */
import type { Rng } from "../core/rng.ts";
import { checkObservation, checkStateHeader, stateHeader, validateActionSpace, validateObsDim } from "./space.ts";
import type { Action, ActionSpace, Agent, AgentState, Transition } from "./types.ts";

export abstract class StatelessAgent<C> implements Agent {
  abstract readonly name: string;
  protected rng: Rng;

  constructor(
    readonly config: C,
    readonly space: ActionSpace,
    readonly obsDim: number,
    rng: Rng,
  ) {
    validateActionSpace(space);
    validateObsDim(obsDim);
    this.rng = rng;
  }

  act(observation: Float32Array): Action {
    checkObservation(this.name, observation, this.obsDim);
    return this.choose(observation);
  }

  /** The policy: one action for a checked observation. */
  protected abstract choose(observation: Float32Array): Action;

  observe(_t: Transition): void {}

  async update(): Promise<Record<string, number>> {
    return {};
  }

  save(): AgentState {
    return { ...stateHeader(this.name, this.space, this.obsDim, this.rng), config: this.config };
  }

  load(state: AgentState): void {
    this.rng = checkStateHeader(this.name, this.space, this.obsDim, state, this.config);
  }
}
