/**
 * Agent specs: the JSON files under `policies/`, validated with zod, resolved with defaults,
 * and turned into agents by {@link createAgent}.
 *
 * ```json
 * { "agent": "ppo", "params": { "numSteps": 32, "learningRate": 0.001 } }
 * { "agent": "schedule", "schedule": { "phases": [ … ] } }
 * ```
 *
 * Every key of `params` is optional; {@link resolveAgentSpec} fills the defaults declared next to
 * each agent's config so the run records the fully resolved config. Unknown keys are errors.
 * Op names are checked later, against the env's action space, in `createAgent`.
 */
import { z } from "zod";
import type { Rng } from "../core/rng.ts";
import { describeIssues, readJsonFile } from "../core/validate.ts";
import { BanditAgent, type BanditConfig, DEFAULT_BANDIT_CONFIG } from "./bandit.ts";
import { DEFAULT_FIXED_CONFIG, FixedAgent, type FixedConfig } from "./fixed.ts";
import { DEFAULT_NONE_CONFIG, NoneAgent, type NoneConfig } from "./none.ts";
import { DEFAULT_PPO_CONFIG, PpoAgent, type PpoConfig } from "./ppo.ts";
import { DEFAULT_RANDOM_CONFIG, RandomAgent, type RandomConfig } from "./random.ts";
import { DEFAULT_REINFORCE_CONFIG, ReinforceAgent, type ReinforceConfig } from "./reinforce.ts";
import { type Schedule, ScheduleAgent } from "./schedule.ts";
import { DEFAULT_TRIVIAL_CONFIG, TrivialAgent, type TrivialConfig } from "./trivial.ts";
import type { ActionSpace, Agent } from "./types.ts";

// ---------------------------------------------------------------- schemas

const unit = z.number().min(0).max(1);
const positive = z.number().positive();
const hiddenSizes = z.array(z.int().min(1).max(1024)).min(1).max(4);

const paramsSchemas = {
  none: z.strictObject({}),
  fixed: z.strictObject({ op: z.string().min(1), magnitude: unit }),
  random: z.strictObject({ n: z.int().min(0).max(16), magnitude: unit, includeIdentity: z.boolean() }),
  trivial: z.strictObject({ includeIdentity: z.boolean() }),
  bandit: z.strictObject({
    algorithm: z.enum(["ucb", "thompson"]),
    ucbC: z.number().min(0).max(100),
    priorCount: positive,
    discount: z.number().gt(0).max(1),
  }),
  reinforce: z.strictObject({
    hiddenSizes,
    learningRate: positive.max(1),
    updateEvery: z.int().min(1).max(100_000),
    baselineDecay: z.number().min(0).lt(1),
    entCoef: z.number().min(0),
    normalizeAdvantage: z.boolean(),
    maxGradNorm: z.number().min(0),
  }),
  ppo: z.strictObject({
    hiddenSizes,
    learningRate: positive.max(1),
    numSteps: z.int().min(2).max(100_000),
    gamma: unit,
    gaeLambda: unit,
    numMinibatches: z.int().min(1),
    updateEpochs: z.int().min(1).max(1000),
    normAdv: z.boolean(),
    clipCoef: z.number().gt(0).max(1),
    clipVloss: z.boolean(),
    entCoef: z.number().min(0),
    vfCoef: z.number().min(0),
    maxGradNorm: z.number().min(0),
    targetKl: z.number().min(0),
  }),
} satisfies {
  none: z.ZodType<NoneConfig>;
  fixed: z.ZodType<FixedConfig>;
  random: z.ZodType<RandomConfig>;
  trivial: z.ZodType<TrivialConfig>;
  bandit: z.ZodType<BanditConfig>;
  reinforce: z.ZodType<ReinforceConfig>;
  ppo: z.ZodType<PpoConfig>;
};

const scheduleSchema = z.strictObject({
  phases: z
    .array(
      z.strictObject({
        until: z.number().gt(0).max(1),
        ops: z.array(z.strictObject({ op: z.string().min(1), prob: unit, magnitudes: z.record(z.string(), unit) })).min(1),
      }),
    )
    .min(1),
});

export const agentSpecSchema = z.discriminatedUnion("agent", [
  z.strictObject({ agent: z.literal("none"), params: paramsSchemas.none.partial().optional() }),
  z.strictObject({ agent: z.literal("fixed"), params: paramsSchemas.fixed.partial().optional() }),
  z.strictObject({ agent: z.literal("random"), params: paramsSchemas.random.partial().optional() }),
  z.strictObject({ agent: z.literal("trivial"), params: paramsSchemas.trivial.partial().optional() }),
  z.strictObject({ agent: z.literal("bandit"), params: paramsSchemas.bandit.partial().optional() }),
  z.strictObject({ agent: z.literal("reinforce"), params: paramsSchemas.reinforce.partial().optional() }),
  z.strictObject({ agent: z.literal("ppo"), params: paramsSchemas.ppo.partial().optional() }),
  z.strictObject({ agent: z.literal("schedule"), schedule: scheduleSchema }),
]);

// ---------------------------------------------------------------- types

/** A spec as written in a policies/*.json file (params optional). */
export type AgentSpec =
  | { agent: "none"; params?: Partial<NoneConfig> }
  | { agent: "fixed"; params?: Partial<FixedConfig> }
  | { agent: "random"; params?: Partial<RandomConfig> }
  | { agent: "trivial"; params?: Partial<TrivialConfig> }
  | { agent: "bandit"; params?: Partial<BanditConfig> }
  | { agent: "reinforce"; params?: Partial<ReinforceConfig> }
  | { agent: "ppo"; params?: Partial<PpoConfig> }
  | { agent: "schedule"; schedule: Schedule };

/** A spec with every parameter filled in: what a run records in its config.json. */
export type ResolvedAgentSpec =
  | { agent: "none"; params: NoneConfig }
  | { agent: "fixed"; params: FixedConfig }
  | { agent: "random"; params: RandomConfig }
  | { agent: "trivial"; params: TrivialConfig }
  | { agent: "bandit"; params: BanditConfig }
  | { agent: "reinforce"; params: ReinforceConfig }
  | { agent: "ppo"; params: PpoConfig }
  | { agent: "schedule"; schedule: Schedule };

/** Agent kinds, in the order the docs list them. */
export const AGENT_KINDS = ["none", "fixed", "random", "trivial", "bandit", "reinforce", "ppo", "schedule"] as const;

// ---------------------------------------------------------------- parse / resolve / create

/**
 * Validates a parsed JSON value as an agent spec. `source` (a file path) prefixes every message,
 * which names the key path and the value received.
 */
export function parseAgentSpec(value: unknown, source = "<agent spec>"): AgentSpec {
  const result = agentSpecSchema.safeParse(value);
  if (result.success) return result.data satisfies AgentSpec;
  // Shared wording for every issue, except an unknown `agent`, where the union's own message
  // would list zod internals instead of the kinds.
  const lines = result.error.issues.map((issue) =>
    issue.code === "invalid_union" && issue.path.join(".") === "agent"
      ? `  \`agent\`: got ${JSON.stringify((value as { agent?: unknown }).agent)}; expected one of ${AGENT_KINDS.join(", ")}`
      : describeIssues([issue], value)[0]!,
  );
  throw new Error(`${source}: invalid agent spec\n${lines.join("\n")}`);
}

/** Reads and validates a policies/*.json file; errors name the file and the key path. */
export function loadAgentSpec(path: string): AgentSpec {
  return parseAgentSpec(readJsonFile(path, "agent spec", "pass an existing file, e.g. policies/ppo.json"), path);
}

/** Fills every default, so the run can record the fully resolved config. Idempotent. */
export function resolveAgentSpec(spec: AgentSpec): ResolvedAgentSpec {
  switch (spec.agent) {
    case "none":
      return { agent: "none", params: withDefaults(DEFAULT_NONE_CONFIG, spec.params) };
    case "fixed":
      return { agent: "fixed", params: withDefaults(DEFAULT_FIXED_CONFIG, spec.params) };
    case "random":
      return { agent: "random", params: withDefaults(DEFAULT_RANDOM_CONFIG, spec.params) };
    case "trivial":
      return { agent: "trivial", params: withDefaults(DEFAULT_TRIVIAL_CONFIG, spec.params) };
    case "bandit":
      return { agent: "bandit", params: withDefaults(DEFAULT_BANDIT_CONFIG, spec.params) };
    case "reinforce":
      return { agent: "reinforce", params: withDefaults(DEFAULT_REINFORCE_CONFIG, spec.params) };
    case "ppo":
      return { agent: "ppo", params: withDefaults(DEFAULT_PPO_CONFIG, spec.params) };
    case "schedule":
      return { agent: "schedule", schedule: spec.schedule };
  }
}

/**
 * Builds the agent a spec describes, for the env's action space and observation size.
 * `rng` becomes the agent's own stream (pass `root.child("agent")`).
 */
export function createAgent(spec: AgentSpec | ResolvedAgentSpec, space: ActionSpace, obsDim: number, rng: Rng): Agent {
  const r = resolveAgentSpec(spec as AgentSpec);
  switch (r.agent) {
    case "none":
      return new NoneAgent(r.params, space, obsDim, rng);
    case "fixed":
      return new FixedAgent(r.params, space, obsDim, rng);
    case "random":
      return new RandomAgent(r.params, space, obsDim, rng);
    case "trivial":
      return new TrivialAgent(r.params, space, obsDim, rng);
    case "bandit":
      return new BanditAgent(r.params, space, obsDim, rng);
    case "reinforce":
      return new ReinforceAgent(r.params, space, obsDim, rng);
    case "ppo":
      return new PpoAgent(r.params, space, obsDim, rng);
    case "schedule":
      return new ScheduleAgent({ schedule: r.schedule }, space, obsDim, rng);
  }
}

/** `{...defaults, ...params}` where an explicitly `undefined` param keeps its default. */
function withDefaults<C extends object>(defaults: C, params: Partial<C> | undefined): C {
  const set = Object.entries(params ?? {}).filter(([, v]) => v !== undefined);
  return { ...defaults, ...Object.fromEntries(set) } as C;
}

