/**
 * Plumbing shared by all agents: action-space checks, building actions, and the common part
 * of save/load (kind, space, obsDim, rng). No learning here.
 */
import { Rng } from "../core/rng.ts";
import type { Action, ActionSpace, AgentState } from "./types.ts";

/** Throws unless `space` is usable: non-empty ops with `"identity"` first, bins in [0,1], slots ≥ 1. */
export function validateActionSpace(space: ActionSpace): void {
  if (!Array.isArray(space.ops) || space.ops.length === 0) {
    throw new Error(`ActionSpace: \`ops\` must be a non-empty array of op names, got ${JSON.stringify(space.ops)}`);
  }
  if (space.ops[0] !== "identity") {
    throw new Error(`ActionSpace: \`ops[0]\` must be "identity", got ${JSON.stringify(space.ops[0])}; put identity first in the env's op list`);
  }
  if (new Set(space.ops).size !== space.ops.length) {
    throw new Error(`ActionSpace: \`ops\` contains duplicates: ${JSON.stringify(space.ops)}`);
  }
  if (!Array.isArray(space.magnitudeBins) || space.magnitudeBins.length === 0 || space.magnitudeBins.some((m) => !(m >= 0 && m <= 1))) {
    throw new Error(`ActionSpace: \`magnitudeBins\` must be a non-empty array of values in [0,1], got ${JSON.stringify(space.magnitudeBins)}`);
  }
  if (!Number.isInteger(space.slots) || space.slots < 1) {
    throw new Error(`ActionSpace: \`slots\` must be an integer ≥ 1, got ${space.slots}`);
  }
}

/** Throws unless `obsDim` is a positive integer. */
export function validateObsDim(obsDim: number): void {
  if (!Number.isInteger(obsDim) || obsDim < 1) throw new Error(`\`obsDim\` must be an integer ≥ 1, got ${obsDim}`);
}

/** Throws unless the observation has the agent's size. */
export function checkObservation(agent: string, obs: Float32Array, obsDim: number): void {
  if (obs.length !== obsDim) {
    throw new Error(`${agent}.act: observation length ${obs.length} does not match \`obsDim\` ${obsDim}; build the agent with the env's observation size`);
  }
}

/** Index of the bin closest to `magnitude` (first one on ties). */
export function nearestBin(space: ActionSpace, magnitude: number): number {
  let best = 0;
  for (let i = 1; i < space.magnitudeBins.length; i++) {
    if (Math.abs(space.magnitudeBins[i]! - magnitude) < Math.abs(space.magnitudeBins[best]! - magnitude)) best = i;
  }
  return best;
}

/** Index of op `name` in the space; throws naming the parameter and the known ops. */
export function opIndex(space: ActionSpace, name: string, param: string): number {
  const i = space.ops.indexOf(name);
  if (i < 0) throw new Error(`\`${param}\`: op ${JSON.stringify(name)} is not in the env's action space; known ops: ${space.ops.join(", ")}`);
  return i;
}

/** An action from op and bin indices; magnitude = bin value, or 0 for identity. */
export function actionFromBins(space: ActionSpace, ops: number[], bins: number[]): Action {
  return { ops, bins, magnitudes: ops.map((o, i) => (o === 0 ? 0 : space.magnitudeBins[bins[i]!]!)) };
}

/** The common head of every saved state. */
export function stateHeader(agent: string, space: ActionSpace, obsDim: number, rng: Rng): AgentState {
  return {
    agent,
    version: 1,
    space: { ops: [...space.ops], magnitudeBins: [...space.magnitudeBins], slots: space.slots },
    obsDim,
    rng: rng.state(),
  };
}

/**
 * Checks a state belongs to this agent kind, space, obsDim and (resolved) config; returns the
 * restored Rng. Hyper-parameters come from the spec, not the state, hence the config check.
 */
export function checkStateHeader(agent: string, space: ActionSpace, obsDim: number, state: AgentState, config: unknown): Rng {
  if (state.agent !== agent) throw new Error(`${agent}.load: state is for agent ${JSON.stringify(state.agent)}; load it into a ${state.agent} agent`);
  if (state.version !== 1) throw new Error(`${agent}.load: unsupported state \`version\` ${state.version}; expected 1`);
  if (JSON.stringify(state.space) !== JSON.stringify({ ops: space.ops, magnitudeBins: space.magnitudeBins, slots: space.slots })) {
    throw new Error(`${agent}.load: state was saved for action space ${JSON.stringify(state.space)}, this agent has ${JSON.stringify(space)}; use the same env op set`);
  }
  if (state.obsDim !== obsDim) throw new Error(`${agent}.load: state \`obsDim\` ${state.obsDim} differs from the agent's ${obsDim}`);
  if (JSON.stringify(state.config) !== JSON.stringify(config)) {
    throw new Error(`${agent}.load: state \`config\` ${JSON.stringify(state.config)} differs from this agent's ${JSON.stringify(config)}; build the agent from the run's resolved spec`);
  }
  return Rng.restore(state.rng);
}
