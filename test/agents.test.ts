/** Non-tf agents (none, fixed, random, trivial, bandit, schedule) and spec validation. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { BanditAgent, createAgent, loadAgentSpec, parseAgentSpec, resolveAgentSpec, ScheduleAgent, scheduleFromSteps, type AgentSpec } from "../src/agents/index.ts";
import type { Action } from "../src/agents/types.ts";
import { BEST_BIN, BEST_OP, bestRate, invalidReason, OBS_DIM, runToy, SPACE } from "./agents-toy.ts";

const SIMPLE_SPECS: AgentSpec[] = [
  { agent: "none" },
  { agent: "fixed", params: { op: "crop", magnitude: 0.25 } },
  { agent: "random", params: { n: 2, magnitude: 0.3 } },
  { agent: "trivial" },
  { agent: "bandit", params: { algorithm: "ucb" } },
  { agent: "bandit", params: { algorithm: "thompson" } },
  {
    agent: "schedule",
    schedule: {
      phases: [
        { until: 0.5, ops: [{ op: "crop", prob: 1, magnitudes: { "0.1": 0.5, "0.3": 0.5 } }] },
        { until: 1, ops: [{ op: "identity", prob: 0.5, magnitudes: {} }, { op: "reorder", prob: 0.5, magnitudes: { "0.7": 1 } }] },
      ],
    },
  },
];
const SPACE2 = { ...SPACE, slots: 2 };

async function actions(spec: AgentSpec, seed: number, T = 60, space = SPACE2): Promise<Action[]> {
  const agent = createAgent(spec, space, OBS_DIM, new Rng(seed, "agent"));
  return (await runToy(agent, T)).actions;
}

describe("simple agents", () => {
  for (const spec of SIMPLE_SPECS) {
    const label = `${spec.agent}${"params" in spec && spec.params && "algorithm" in spec.params ? `/${spec.params.algorithm}` : ""}`;
    it(`${label}: valid actions, same seed → same sequence, different seed differs (unless deterministic)`, async () => {
      const a = await actions(spec, 1);
      for (const act of a) assert.equal(invalidReason(act, SPACE2), "", label);
      assert.deepEqual(await actions(spec, 1), a);
      if (spec.agent !== "none" && spec.agent !== "fixed") assert.notDeepEqual(await actions(spec, 2), a);
    });
    it(`${label}: save → JSON → load continues identically`, async () => {
      const a = createAgent(spec, SPACE2, OBS_DIM, new Rng(3, "agent"));
      await runToy(a, 25, 11);
      const state = JSON.parse(JSON.stringify(a.save()));
      const b = createAgent(spec, SPACE2, OBS_DIM, new Rng(999, "other"));
      b.load(state);
      assert.deepEqual((await runToy(b, 30, 12)).actions, (await runToy(a, 30, 12)).actions);
    });
  }

  it("none always picks identity at magnitude 0; fixed always its op", async () => {
    for (const act of await actions({ agent: "none" }, 1)) assert.deepEqual(act, { ops: [0, 0], bins: [0, 0], magnitudes: [0, 0] });
    for (const act of await actions({ agent: "fixed", params: { op: "crop", magnitude: 0.25 } }, 1)) {
      assert.deepEqual(act, { ops: [1, 0], bins: [1, 0], magnitudes: [0.25, 0] }); // 0.25 is nearest to bin 0.2 (first on ties)
    }
  });

  it("random uses n ops at the global magnitude; trivial covers every op and bin", async () => {
    const r = await actions({ agent: "random", params: { n: 1, magnitude: 0.5 } }, 1, 200);
    for (const act of r) {
      assert.equal(act.ops[1], 0);
      assert.equal(act.magnitudes[0], act.ops[0] === 0 ? 0 : 0.5);
    }
    assert.equal(new Set(r.map((x) => x.ops[0])).size, SPACE.ops.length);
    const t = await actions({ agent: "trivial" }, 1, 300, SPACE);
    assert.equal(new Set(t.map((x) => x.ops[0])).size, SPACE.ops.length);
    assert.equal(new Set(t.map((x) => x.bins[0])).size, SPACE.magnitudeBins.length);
  });

  it("constructors reject bad values naming the parameter", () => {
    const rng = new Rng(1);
    assert.throws(() => createAgent({ agent: "fixed", params: { op: "blur" } }, SPACE, OBS_DIM, rng), /`params\.op`.*"blur".*known ops: identity, crop/);
    assert.throws(() => createAgent({ agent: "random", params: { n: 3 } }, SPACE2, OBS_DIM, rng), /`params\.n`.*got 3/);
    assert.throws(() => createAgent({ agent: "none" }, { ...SPACE, ops: ["crop", "identity"] }, OBS_DIM, rng), /`ops\[0\]` must be "identity"/);
    const agent = createAgent({ agent: "trivial" }, SPACE, OBS_DIM, rng);
    assert.throws(() => agent.act(new Float32Array(3)), /observation length 3 does not match `obsDim` 6/);
    assert.throws(() => createAgent({ agent: "none" }, SPACE, OBS_DIM, rng).load(agent.save()), /state is for agent "trivial"/);
    const ucb = createAgent({ agent: "bandit", params: { algorithm: "ucb" } }, SPACE, OBS_DIM, rng);
    assert.throws(() => createAgent({ agent: "bandit" }, SPACE, OBS_DIM, rng).load(ucb.save()), /state `config` .*"ucb".* differs/);
    assert.deepEqual(resolveAgentSpec({ agent: "random", params: { n: undefined } }), { agent: "random", params: { n: 0, magnitude: 0.3, includeIdentity: true } });
  });
});

describe("bandit", () => {
  for (const algorithm of ["ucb", "thompson"] as const) {
    it(`${algorithm} learns the best arm of the toy problem within 300 steps`, async () => {
      const agent = createAgent({ agent: "bandit", params: { algorithm } }, SPACE, OBS_DIM, new Rng(5, "agent")) as BanditAgent;
      const { actions: acts } = await runToy(agent, 300);
      const chance = 1 / (1 + (SPACE.ops.length - 1) * SPACE.magnitudeBins.length);
      if (algorithm === "ucb") assert.ok(bestRate(acts.slice(0, 16)) <= 0.25, `early best rate ${bestRate(acts.slice(0, 16))}`);
      assert.ok(bestRate(acts.slice(-100)) > 0.6, `late best rate ${bestRate(acts.slice(-100))} (chance ${chance})`);
      const m = await agent.update();
      assert.deepEqual([m["bandit/bestOp"], m["bandit/bestBin"]], [BEST_OP, BEST_BIN]);
    });
  }

  it("identity is a single arm and every arm is tried once by UCB first", async () => {
    const agent = new BanditAgent({ algorithm: "ucb", discount: 1 }, SPACE, OBS_DIM, new Rng(1));
    assert.equal(agent.arms().length, 1 + 3 * 5);
    const { actions: acts } = await runToy(agent, 16);
    assert.equal(new Set(acts.map((a) => `${a.ops[0]}/${a.ops[0] === 0 ? 0 : a.bins[0]}`)).size, 16);
  });
});

describe("schedule", () => {
  it("scheduleFromSteps → JSON spec → agent reproduces the per-phase frequencies", async () => {
    const rows = [];
    const rng = new Rng(1);
    for (let i = 0; i < 2000; i++) {
      const progress = i / 2000;
      // phase 0: crop 75% (mags 0.1 / 0.3 evenly), identity 25%; phase 1: reorder 100% at 0.7 (logged as float32)
      if (progress < 0.5) rows.push(rng.random() < 0.75 ? { progress, op: "crop", magnitude: rng.random() < 0.5 ? 0.1 : 0.3 } : { progress, op: "identity", magnitude: 0 });
      else rows.push({ progress, op: "reorder", magnitude: Math.fround(0.7) });
    }
    const schedule = scheduleFromSteps(rows, 2);
    assert.deepEqual(schedule.phases.map((p) => p.until), [0.5, 1]);
    assert.deepEqual(schedule.phases[1]!.ops, [{ op: "reorder", prob: 1, magnitudes: { "0.7": 1 } }]);
    const crop = schedule.phases[0]!.ops[0]!;
    assert.equal(crop.op, "crop");
    assert.ok(Math.abs(crop.prob - 0.75) < 0.04, `crop prob ${crop.prob}`);
    assert.deepEqual(Object.keys(crop.magnitudes), ["0.1", "0.3"]);

    const spec = parseAgentSpec(JSON.parse(JSON.stringify({ agent: "schedule", schedule })));
    const agent = createAgent(spec, SPACE, OBS_DIM, new Rng(2)) as ScheduleAgent;
    const early = Array.from({ length: 1000 }, () => agent.act(Float32Array.from([0.1, 0, 0, 0, 0, 0])));
    const cropRate = early.filter((a) => a.ops[0] === 1).length / early.length;
    assert.ok(Math.abs(cropRate - crop.prob) < 0.05, `crop rate ${cropRate}`);
    assert.ok(early.every((a) => (a.ops[0] === 0 ? a.magnitudes[0] === 0 : [0.1, 0.3].includes(a.magnitudes[0]!))));
    const late = Array.from({ length: 50 }, () => agent.act(Float32Array.from([0.9, 0, 0, 0, 0, 0])));
    assert.ok(late.every((a) => a.ops[0] === 3 && a.magnitudes[0] === 0.7 && a.bins[0] === 4));
  });

  it("empty phases copy a neighbour; bad input is rejected", () => {
    const s = scheduleFromSteps([{ progress: 0.9, op: "crop", magnitude: 0.2 }], 3);
    assert.deepEqual(s.phases.map((p) => p.ops[0]!.op), ["crop", "crop", "crop"]);
    assert.throws(() => scheduleFromSteps([], 2), /`rows` is empty/);
    assert.throws(() => scheduleFromSteps([{ progress: 1.5, op: "crop", magnitude: 0.2 }], 2), /`rows\[0\]\.progress`.*1\.5/);
    const bad = { phases: [{ until: 1, ops: [{ op: "blur", prob: 1, magnitudes: { "0.1": 1 } }] }] };
    assert.throws(() => createAgent({ agent: "schedule", schedule: bad }, SPACE, OBS_DIM, new Rng(1)), /`schedule\.phases\[0\]\.ops\[0\]\.op`: op "blur" is not in the env's action space/);
    const badSum = { phases: [{ until: 1, ops: [{ op: "crop", prob: 0.5, magnitudes: { "0.1": 1 } }] }] };
    assert.throws(() => createAgent({ agent: "schedule", schedule: badSum }, SPACE, OBS_DIM, new Rng(1)), /sum to 0\.5, expected 1/);
  });
});

describe("agent specs", () => {
  const dir = mkdtempSync(join(tmpdir(), "augrl-agents-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
    return path;
  };

  it("every shipped policies/*.json loads, resolves and builds an agent", () => {
    for (const [name, kind] of [["none"], ["fixed"], ["random"], ["trivial"], ["bandit"], ["reinforce"], ["ppo"], ["reinforce-stage", "reinforce"]] as const) {
      const spec = loadAgentSpec(join(import.meta.dirname, "..", "policies", `${name}.json`));
      const resolved = resolveAgentSpec(spec);
      assert.equal(resolved.agent, kind ?? name);
      assert.deepEqual(resolveAgentSpec(resolved as AgentSpec), resolved, "resolve is idempotent");
      const agent = createAgent(spec, SPACE, OBS_DIM, new Rng(1));
      assert.equal(invalidReason(agent.act(new Float32Array(OBS_DIM)), SPACE), "");
      agent.dispose?.();
    }
  });

  it("every file in policies/ parses and resolves; the shipped intent schedule builds against its env's action space", async () => {
    const { readdirSync } = await import("node:fs");
    const dirPath = join(import.meta.dirname, "..", "policies");
    const files = readdirSync(dirPath).filter((f) => f.endsWith(".json"));
    assert.ok(files.length >= 10);
    for (const f of files) resolveAgentSpec(loadAgentSpec(join(dirPath, f)));
    const { loadIntentEnvSpec } = await import("../src/env/index.ts");
    const { rl } = loadIntentEnvSpec(join(import.meta.dirname, "..", "envs", "banking77-10shot-copies.json"));
    const space = { ops: rl.ops, magnitudeBins: rl.magnitudeBins, slots: rl.slots };
    const obsDim = 7 + 2 * rl.ops.length;
    const agent = createAgent(loadAgentSpec(join(dirPath, "learned-banking77-copies-es.json")), space, obsDim, new Rng(1));
    const obs = new Float32Array(obsDim);
    const played = new Set(Array.from({ length: 200 }, () => rl.ops[agent.act(obs).ops[0]!]));
    assert.ok([...played].some((op) => op.endsWith("-x4")) && played.has("word-swap"), [...played].join(","));
  });

  it("resolve fills defaults", () => {
    const r = resolveAgentSpec({ agent: "ppo", params: { numSteps: 8 } });
    assert.equal(r.agent, "ppo");
    if (r.agent === "ppo") assert.deepEqual([r.params.numSteps, r.params.clipCoef, r.params.gaeLambda], [8, 0.2, 0.95]);
  });

  it("errors name the file, the key path and the value", () => {
    const unknown = write("unknown.json", { agent: "ppo", params: { clipCoeff: 0.2 } });
    assert.throws(() => loadAgentSpec(unknown), (e: Error) => e.message.includes(unknown) && /`params\.clipCoeff`: unknown key/.test(e.message));
    const wrongType = write("type.json", { agent: "bandit", params: { discount: "high" } });
    assert.throws(() => loadAgentSpec(wrongType), (e: Error) => e.message.includes(wrongType) && /`params\.discount`.*expected number.*got "high"/.test(e.message));
    const range = write("range.json", { agent: "ppo", params: { clipCoef: 3 } });
    assert.throws(() => loadAgentSpec(range), (e: Error) => e.message.includes(range) && /`params\.clipCoef`.*got 3/.test(e.message));
    const kind = write("kind.json", { agent: "dqn" });
    assert.throws(() => loadAgentSpec(kind), /`agent`: got "dqn"; expected one of none, fixed/);
    const nested = write("nested.json", { agent: "schedule", schedule: { phases: [{ until: 1, ops: [{ op: "crop", prob: 2, magnitudes: {} }] }] } });
    assert.throws(() => loadAgentSpec(nested), /`schedule\.phases\.0\.ops\.0\.prob`.*got 2/);
    assert.throws(() => loadAgentSpec(write("bad.json", "{ nope")), /bad\.json: not valid JSON/);
    assert.throws(() => loadAgentSpec(join(dir, "missing.json")), /missing\.json: cannot read agent spec/);
  });
});
