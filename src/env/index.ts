export { AugmentEnv, ENV_VERSION, type AugmentEnvDeps, type AugmentEnvState } from "./augment-env.ts";
export { loadEnvSpec, loadSpecData, loadEnvData, envSpecSchema, RL_DEFAULTS, type ResolvedEnvSpec, type SpecDataOptions } from "./spec.ts";
export { TimeLimit } from "./time-limit.ts";
export { createEnv, envKinds, loadAnyEnvSpec, type AnyEnvSpec, type CommonEnvSpec, type EnvDeps } from "./registry.ts";
export type { ActionSpace, Env, EnvAction, EpisodeMetrics, ResetInfo, ResetResult, StepInfo, StepResult } from "./types.ts";
export { IntentEnv, INTENT_ENV_VERSION, chooseThreshold, createIntentEnv, createIntentEnvSync, createIntentOps, type IntentEnvState, type IntentEnvOptions, type ThresholdChoice } from "./intent-env.ts";
export {
  loadIntentEnvSpec, loadIntentSpecData, specKind, intentSpecSchema, INTENT_DEFAULT_OPS, INTENT_TRAINING_DEFAULTS,
  type ResolvedIntentEnvSpec, type IntentSpecData,
} from "./intent-spec.ts";
