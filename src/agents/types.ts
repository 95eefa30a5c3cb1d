/**
 * The agent contract: what an RL agent sees (numbers) and returns (an augmentation choice).
 *
 * Agents never import the model, the env, the recorder or the monitor. The env builds an
 * {@link ActionSpace} from its op registry and produces a fixed-size observation vector;
 * the agent answers with an {@link Action} and later receives a {@link Transition}.
 *
 * Life cycle per env step (SB3-style seam, driven by the env's training loop):
 *
 * ```ts
 * const action = agent.act(obs);                   // synchronous, uses the agent's own Rng
 * const { observation, reward, terminated, truncated } = await env.step(action);
 * agent.observe({ observation: obs, action, reward, nextObservation: observation, terminated, truncated });
 * const metrics = await agent.update();            // {} unless an update was due
 * ```
 */
import type { RngState } from "../core/rng.ts";

/**
 * What the env lets the agent choose: one op from `ops` and one magnitude bin per slot.
 *
 * `ops[0]` is always `"identity"` (no augmentation).
 */
export interface ActionSpace {
  /** Op names; index 0 is `"identity"`. */
  ops: string[];
  /** Magnitude values in [0,1] the agent may choose from, e.g. `[0.1, 0.2, 0.3, 0.5, 0.7]`. */
  magnitudeBins: number[];
  /** Ops applied per step (usually 1). */
  slots: number;
}

/**
 * One choice per slot. `ops[i]` indexes `space.ops`, `bins[i]` indexes `space.magnitudeBins`,
 * `magnitudes[i]` is the magnitude to apply (normally `magnitudeBins[bins[i]]`; a `fixed` or
 * `schedule` agent may use an exact value and reports the nearest bin). When `ops[i]` is
 * identity the magnitude is 0 and the bin is kept only so every slot has one.
 */
export interface Action {
  ops: number[];
  bins: number[];
  magnitudes: number[];
  /** Log-probability of the whole action under the policy (learned agents only). */
  logProb?: number;
  /** Critic value of the observation the action was taken in (actor-critic agents only). */
  value?: number;
}

/**
 * One env step as the agent stores it.
 *
 * `terminated`: the episode reached a terminal state (no bootstrapping: future value is 0).
 * `truncated`: the episode was cut by a budget (time limit); bootstrap from `nextObservation`.
 */
export interface Transition {
  observation: Float32Array;
  action: Action;
  reward: number;
  nextObservation: Float32Array;
  terminated: boolean;
  truncated: boolean;
}

/**
 * Everything needed to resume an agent exactly: hyper-parameters, weights (plain number arrays),
 * optimizer slots, rng state, buffers and counters. JSON-serialisable.
 */
export interface AgentState {
  /** Agent kind, e.g. `"ppo"`; `load` refuses a state of another kind. */
  agent: string;
  /** State layout version. */
  version: number;
  /** The action space and observation size the state was made for; `load` checks they match. */
  space: ActionSpace;
  obsDim: number;
  rng: RngState;
  [key: string]: unknown;
}

export interface Agent {
  readonly name: string;
  /**
   * Episodes the agent compares in groups: episodes gN … gN+N−1 are played from the same env
   * seed (common random numbers), and a parallel round's copies learn which member they are from
   * the `episode` the run loop sets in their state. Absent = 1 (every episode its own seed).
   */
  readonly episodeGroup?: number;
  /** Choose the action for `observation` (length `obsDim`). Synchronous; draws from the agent's Rng. */
  act(observation: Float32Array): Action;
  /** Store one step of experience. */
  observe(t: Transition): void;
  /**
   * Learn from stored experience when an update is due. Returns namespaced metrics
   * (e.g. `{"losses/pgLoss": …, "losses/approxKl": …}`), or `{}` when there was nothing to do.
   */
  update(): Promise<Record<string, number>>;
  /** JSON-serialisable snapshot (see {@link AgentState}). */
  save(): AgentState;
  /** Exact restore: afterwards the agent continues bit-identically to one that never stopped. */
  load(state: AgentState): void;
  /** Frees tf variables (learned agents); the agent is unusable afterwards. */
  dispose?(): void;
}
