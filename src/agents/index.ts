/** Public API of the agents layer. Agents see only numbers: no model, env, recorder or monitor imports. */
export type { Action, ActionSpace, Agent, AgentState, Transition } from "./types.ts";
export { actionFromBins, nearestBin, validateActionSpace } from "./space.ts";
export { AGENT_KINDS, type AgentSpec, agentSpecSchema, createAgent, loadAgentSpec, parseAgentSpec, type ResolvedAgentSpec, resolveAgentSpec } from "./spec.ts";
export { NoneAgent, type NoneConfig, DEFAULT_NONE_CONFIG } from "./none.ts";
export { FixedAgent, type FixedConfig, DEFAULT_FIXED_CONFIG } from "./fixed.ts";
export { RandomAgent, type RandomConfig, DEFAULT_RANDOM_CONFIG } from "./random.ts";
export { TrivialAgent, type TrivialConfig, DEFAULT_TRIVIAL_CONFIG } from "./trivial.ts";
export { BanditAgent, type ArmStats, type BanditConfig, DEFAULT_BANDIT_CONFIG } from "./bandit.ts";
export { ReinforceAgent, type ReinforceConfig, DEFAULT_REINFORCE_CONFIG } from "./reinforce.ts";
export { EsAgent, type EsConfig, DEFAULT_ES_CONFIG, esSchedule } from "./es.ts";
export { PpoAgent, type PpoConfig, DEFAULT_PPO_CONFIG } from "./ppo.ts";
export { ScheduleAgent, compileSchedule, type Schedule, type ScheduleOp, type SchedulePhase, type ScheduleRow, scheduleFromSteps } from "./schedule.ts";
