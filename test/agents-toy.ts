/**
 * Test helpers for the agent tests: a toy contextual bandit env and a fixed action space.
 * The best action is op 2 ("mask") at bin 1 (0.2): reward 1, anything else 0, plus N(0, 0.1) noise.
 */
import { Rng } from "../src/core/rng.ts";
import type { Action, ActionSpace, Agent } from "../src/agents/types.ts";

export const SPACE: ActionSpace = { ops: ["identity", "crop", "mask", "reorder"], magnitudeBins: [0.1, 0.2, 0.3, 0.5, 0.7], slots: 1 };
export const OBS_DIM = 6;
export const BEST_OP = 2;
export const BEST_BIN = 1;

/** Observation at step t of T: progress, then small deterministic context features. */
export function toyObservation(t: number, T: number, rng: Rng): Float32Array {
  const o = new Float32Array(OBS_DIM);
  o[0] = Math.min(t / T, 1);
  for (let i = 1; i < OBS_DIM; i++) o[i] = 0.1 * rng.normal();
  return o;
}

export function toyReward(a: Action, rng: Rng): number {
  return (a.ops[0] === BEST_OP && a.bins[0] === BEST_BIN ? 1 : 0) + rng.normal(0, 0.1);
}

/**
 * Runs `agent` for T steps on the toy env (seeded by `envSeed`); episodes are truncated every
 * `episodeLength` steps. Returns the actions taken and the non-empty update metrics.
 */
export async function runToy(agent: Agent, T: number, envSeed = 7, episodeLength = 100): Promise<{ actions: Action[]; metrics: Record<string, number>[]; lastObs: Float32Array }> {
  const envRng = new Rng(envSeed, "toy-env");
  const actions: Action[] = [];
  const metrics: Record<string, number>[] = [];
  let obs = toyObservation(0, T, envRng);
  for (let t = 0; t < T; t++) {
    const action = agent.act(obs);
    actions.push(action);
    const reward = toyReward(action, envRng);
    const next = toyObservation(t + 1, T, envRng);
    agent.observe({ observation: obs, action, reward, nextObservation: next, terminated: false, truncated: (t + 1) % episodeLength === 0 });
    const m = await agent.update();
    if (Object.keys(m).length > 0) metrics.push(m);
    obs = next;
  }
  return { actions, metrics, lastObs: obs };
}

/** Fraction of `actions` that are the best arm. */
export function bestRate(actions: Action[]): number {
  return actions.filter((a) => a.ops[0] === BEST_OP && a.bins[0] === BEST_BIN).length / actions.length;
}

/** Asserts-friendly check that an action is valid for `space`; returns a reason or "". */
export function invalidReason(a: Action, space: ActionSpace): string {
  if (a.ops.length !== space.slots || a.bins.length !== space.slots || a.magnitudes.length !== space.slots) return `wrong lengths ${JSON.stringify(a)}`;
  for (let s = 0; s < space.slots; s++) {
    const op = a.ops[s]!;
    const bin = a.bins[s]!;
    const m = a.magnitudes[s]!;
    if (!Number.isInteger(op) || op < 0 || op >= space.ops.length) return `op ${op} out of range`;
    if (!Number.isInteger(bin) || bin < 0 || bin >= space.magnitudeBins.length) return `bin ${bin} out of range`;
    if (!(m >= 0 && m <= 1)) return `magnitude ${m} out of [0,1]`;
    if (op === 0 && m !== 0) return `identity with magnitude ${m}`;
  }
  return "";
}
