/** The agent registry: every kind is reachable through one table (parse, resolve, create) and unknown kinds fail by name. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { AGENT_KINDS, agentSpecSchema, createAgent, parseAgentSpec, resolveAgentSpec, type AgentSpec } from "../src/agents/index.ts";
import { OBS_DIM, SPACE } from "./agents-toy.ts";

const SCHEDULE = { phases: [{ until: 1, ops: [{ op: "crop", prob: 1, magnitudes: { "0.2": 1 } }] }] };
const minimal = (kind: string): unknown => (kind === "schedule" ? { agent: kind, schedule: SCHEDULE } : kind === "fixed" ? { agent: kind, params: { op: "crop" } } : { agent: kind });

it("lists the documented kinds in order, and the schema accepts exactly those", () => {
  assert.deepEqual(AGENT_KINDS, ["none", "fixed", "random", "trivial", "bandit", "reinforce", "ppo", "es", "schedule"]);
  for (const kind of AGENT_KINDS) assert.ok(agentSpecSchema.safeParse(minimal(kind)).success, kind);
  assert.ok(!agentSpecSchema.safeParse({ agent: "toString" }).success);
});

it("every kind parses, resolves idempotently and builds an agent whose name is the kind", () => {
  for (const kind of AGENT_KINDS) {
    const spec = parseAgentSpec(minimal(kind));
    const resolved = resolveAgentSpec(spec);
    assert.equal(resolved.agent, kind);
    assert.deepEqual(Object.keys(resolved), kind === "schedule" ? ["agent", "schedule"] : ["agent", "params"]);
    assert.deepEqual(resolveAgentSpec(resolved as AgentSpec), resolved);
    const agent = createAgent(resolved, SPACE, OBS_DIM, new Rng(1));
    assert.equal(agent.name, kind);
    agent.dispose?.();
  }
});

it("resolve and create refuse a kind outside the registry by name, even one on Object.prototype", () => {
  for (const agent of ["dqn", "toString"]) {
    assert.throws(() => resolveAgentSpec({ agent } as never), new RegExp(`\`agent\`: got "${agent}"; expected one of none, fixed, random`));
    assert.throws(() => createAgent({ agent } as never, SPACE, OBS_DIM, new Rng(1)), /expected one of none, fixed/);
  }
});
