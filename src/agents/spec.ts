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
 *
 * Each kind is one entry of `AGENTS` (its spec keys, how defaults are filled, its constructor);
 * the zod union, the spec types, `AGENT_KINDS`, resolve and create are derived from that table,
 * so a new agent is its file plus one entry here.
 */
import { z } from "zod";
import type { Rng } from "../core/rng.ts";
import { describeIssues, readJsonFile } from "../core/validate.ts";
import { BanditAgent, DEFAULT_BANDIT_CONFIG } from "./bandit.ts";
import { DEFAULT_ES_CONFIG, EsAgent } from "./es.ts";
import { DEFAULT_FIXED_CONFIG, FixedAgent } from "./fixed.ts";
import { DEFAULT_NONE_CONFIG, NoneAgent } from "./none.ts";
import { DEFAULT_PPO_CONFIG, PpoAgent } from "./ppo.ts";
import { DEFAULT_RANDOM_CONFIG, RandomAgent } from "./random.ts";
import { DEFAULT_REINFORCE_CONFIG, ReinforceAgent } from "./reinforce.ts";
import { type Schedule, ScheduleAgent } from "./schedule.ts";
import { DEFAULT_TRIVIAL_CONFIG, TrivialAgent } from "./trivial.ts";
import type { ActionSpace, Agent } from "./types.ts";

// ---------------------------------------------------------------- registry

/** Every agent constructor takes its config, the env's action space, the observation size and its own rng. */
type AgentClass<C> = new (config: C, space: ActionSpace, obsDim: number, rng: Rng) => Agent;

/**
 * One agent kind: `fields` are the zod shapes of its spec keys beside `agent`, parsing to `Spec`;
 * `resolve` fills every default (idempotent: a resolved spec resolves to itself); `create` builds
 * the agent from the resolved spec.
 */
interface AgentKind<Spec, Resolved> {
  fields: z.ZodRawShape;
  resolve(spec: Spec): Resolved;
  create(resolved: Resolved, space: ActionSpace, obsDim: number, rng: Rng): Agent;
}

/**
 * The usual kind: hyper-parameters under `params`, validated by `schema` with every key optional
 * in a spec, filled from `defaults`.
 */
function withParams<C extends object>(schema: z.ZodObject & z.ZodType<C>, defaults: C, Class: AgentClass<C>): AgentKind<{ params?: Partial<C> }, { params: C }> {
  return {
    fields: { params: schema.partial().optional() },
    resolve: (spec) => ({ params: withDefaults(defaults, spec.params) }),
    create: (resolved, space, obsDim, rng) => new Class(resolved.params, space, obsDim, rng),
  };
}

const unit = z.number().min(0).max(1);
const positive = z.number().positive();
const hiddenSizes = z.array(z.int().min(1).max(1024)).min(1).max(4);

const scheduleSchema = z.strictObject({
  phases: z
    .array(
      z.strictObject({
        until: z.number().gt(0).max(1),
        ops: z.array(z.strictObject({ op: z.string().min(1), prob: unit, magnitudes: z.record(z.string(), unit) })).min(1),
      }),
    )
    .min(1),
}) satisfies z.ZodType<Schedule>;

/** Agent kinds, in the order the docs list them. */
const AGENTS = {
  none: withParams(z.strictObject({}), DEFAULT_NONE_CONFIG, NoneAgent),
  fixed: withParams(z.strictObject({ op: z.string().min(1), magnitude: unit }), DEFAULT_FIXED_CONFIG, FixedAgent),
  random: withParams(z.strictObject({ n: z.int().min(0).max(16), magnitude: unit, includeIdentity: z.boolean() }), DEFAULT_RANDOM_CONFIG, RandomAgent),
  trivial: withParams(z.strictObject({ includeIdentity: z.boolean() }), DEFAULT_TRIVIAL_CONFIG, TrivialAgent),
  bandit: withParams(
    z.strictObject({
      algorithm: z.enum(["ucb", "thompson"]),
      ucbC: z.number().min(0).max(100),
      priorCount: positive,
      discount: z.number().gt(0).max(1),
    }),
    DEFAULT_BANDIT_CONFIG,
    BanditAgent,
  ),
  reinforce: withParams(
    z.strictObject({
      hiddenSizes,
      learningRate: positive.max(1),
      updateEvery: z.int().min(1).max(100_000),
      baselineDecay: z.number().min(0).lt(1),
      entCoef: z.number().min(0),
      normalizeAdvantage: z.boolean(),
      maxGradNorm: z.number().min(0),
      uniformMix: z.number().min(0).lt(1),
    }),
    DEFAULT_REINFORCE_CONFIG,
    ReinforceAgent,
  ),
  ppo: withParams(
    z.strictObject({
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
    DEFAULT_PPO_CONFIG,
    PpoAgent,
  ),
  es: withParams(
    z.strictObject({
      phases: z.int().min(1).max(100),
      sigma: positive.max(10),
      learningRate: positive.max(10),
      rmsDecay: z.number().min(0).lt(1),
    }),
    DEFAULT_ES_CONFIG,
    EsAgent,
  ),
  // A replayed schedule has no defaults to fill: the spec carries the whole schedule.
  schedule: {
    fields: { schedule: scheduleSchema },
    resolve: (spec: { schedule: Schedule }) => ({ schedule: spec.schedule }),
    create: (resolved: { schedule: Schedule }, space: ActionSpace, obsDim: number, rng: Rng) => new ScheduleAgent({ schedule: resolved.schedule }, space, obsDim, rng),
  } satisfies AgentKind<{ schedule: Schedule }, { schedule: Schedule }>,
};

// ---------------------------------------------------------------- derived: kinds, schema, types

type Kinds = typeof AGENTS;
type KindName = keyof Kinds;
type SpecOf<K extends KindName> = Kinds[K] extends AgentKind<infer S, unknown> ? S : never;
type ResolvedOf<K extends KindName> = Kinds[K] extends AgentKind<never, infer R> ? R : never;

/** Agent kinds, in the order the docs list them. */
export const AGENT_KINDS = Object.keys(AGENTS) as readonly KindName[];

/** A spec as written in a policies/*.json file (params optional). */
export type AgentSpec = { [K in KindName]: { agent: K } & SpecOf<K> }[KindName];

/** A spec with every parameter filled in: what a run records in its config.json. */
export type ResolvedAgentSpec = { [K in KindName]: { agent: K } & ResolvedOf<K> }[KindName];

const variants = AGENT_KINDS.map((kind) => z.strictObject({ agent: z.literal(kind), ...AGENTS[kind].fields }));
export const agentSpecSchema = z.discriminatedUnion("agent", variants as [(typeof variants)[number], ...(typeof variants)[number][]]);

// ---------------------------------------------------------------- parse / resolve / create

/**
 * Validates a parsed JSON value as an agent spec. `source` (a file path) prefixes every message,
 * which names the key path and the value received.
 */
export function parseAgentSpec(value: unknown, source = "<agent spec>"): AgentSpec {
  const result = agentSpecSchema.safeParse(value);
  if (result.success) return result.data as AgentSpec;
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

/** The registry entry of `spec.agent`, typed loosely: the union of kinds has already been checked by the caller's types. */
function kindOf(agent: string): AgentKind<object, object> {
  if (!Object.hasOwn(AGENTS, agent)) throw new Error(`\`agent\`: got ${JSON.stringify(agent)}; expected one of ${AGENT_KINDS.join(", ")}`);
  return AGENTS[agent as KindName] as unknown as AgentKind<object, object>;
}

/** Fills every default, so the run can record the fully resolved config. Idempotent. */
export function resolveAgentSpec(spec: AgentSpec): ResolvedAgentSpec {
  return { agent: spec.agent, ...kindOf(spec.agent).resolve(spec) } as ResolvedAgentSpec;
}

/**
 * Builds the agent a spec describes, for the env's action space and observation size.
 * `rng` becomes the agent's own stream (pass `root.child("agent")`).
 */
export function createAgent(spec: AgentSpec | ResolvedAgentSpec, space: ActionSpace, obsDim: number, rng: Rng): Agent {
  const resolved = resolveAgentSpec(spec as AgentSpec);
  return kindOf(resolved.agent).create(resolved, space, obsDim, rng);
}

/** `{...defaults, ...params}` where an explicitly `undefined` param keeps its default. */
function withDefaults<C extends object>(defaults: C, params: Partial<C> | undefined): C {
  const set = Object.entries(params ?? {}).filter(([, v]) => v !== undefined);
  return { ...defaults, ...Object.fromEntries(set) } as C;
}
