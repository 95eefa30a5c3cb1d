export { AugmentEnv, ENV_VERSION, type AugmentEnvState } from "./augment-env.ts";
export { loadEnvSpec, loadSpecData, loadEnvData, envSpecSchema, RL_DEFAULTS, type ResolvedEnvSpec } from "./spec.ts";
export type { ActionSpace, EnvAction, StepInfo, StepResult } from "./types.ts";
export { IntentEnv, INTENT_ENV_VERSION, chooseThreshold, createIntentEnv, createIntentOps, type IntentEnvState, type IntentEnvOptions, type ThresholdChoice } from "./intent-env.ts";
export {
  loadIntentEnvSpec, loadIntentSpecData, specKind, intentSpecSchema, INTENT_DEFAULT_OPS, INTENT_TRAINING_DEFAULTS,
  type ResolvedIntentEnvSpec, type IntentSpecData,
} from "./intent-spec.ts";
export type { Env, EpisodeMetrics, ResetResult, ResetInfo } from "./types.ts";
