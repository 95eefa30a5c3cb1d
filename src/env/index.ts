export { AugmentEnv, ENV_VERSION, type AugmentEnvState } from "./augment-env.ts";
export { loadEnvSpec, loadSpecData, loadEnvData, envSpecSchema, RL_DEFAULTS, type ResolvedEnvSpec } from "./spec.ts";
export type { ActionSpace, EnvAction, StepInfo, StepResult } from "./types.ts";
