/** tfjs agents (reinforce, ppo): validity, determinism, exact resume, no tensor leaks, learning. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import { createAgent, PpoAgent, ReinforceAgent, type AgentSpec } from "../src/agents/index.ts";
import { mixtureLogProb } from "../src/agents/reinforce.ts";
import type { Agent } from "../src/agents/types.ts";
import { bestRate, BEST_BIN, BEST_OP, invalidReason, OBS_DIM, runToy, SPACE, toyObservation } from "./agents-toy.ts";

before(async () => {
  await tf.setBackend("cpu");
});

/** Small networks and short rollouts keep the file fast; the algorithms are the same. */
const SPECS: AgentSpec[] = [
  { agent: "reinforce", params: { hiddenSizes: [32], learningRate: 0.01, updateEvery: 8 } },
  { agent: "ppo", params: { hiddenSizes: [32], numSteps: 16, numMinibatches: 2, updateEpochs: 4 } },
];
const SPACE2 = { ...SPACE, slots: 2 };

function build(spec: AgentSpec, seed: number, space = SPACE): Agent {
  return createAgent(spec, space, OBS_DIM, new Rng(seed, "agent"));
}

function weightsOf(agent: Agent): unknown {
  const s = agent.save();
  return agent instanceof PpoAgent ? [s.actor, s.critic, s.optimizer] : [s.weights, s.optimizer];
}

for (const spec of SPECS) {
  describe(spec.agent, () => {
    it("acts validly (slots = 2), returns logProb, and updates when due with namespaced finite metrics", async () => {
      const agent = build(spec, 1, SPACE2);
      const { actions, metrics } = await runToy(agent, 40);
      for (const a of actions) {
        assert.equal(invalidReason(a, SPACE2), "");
        assert.ok(Number.isFinite(a.logProb) && a.logProb! <= 0, `logProb ${a.logProb}`);
      }
      assert.equal(metrics.length, spec.agent === "ppo" ? 2 : 5);
      for (const m of metrics) {
        assert.ok("losses/pgLoss" in m && "losses/entropy" in m, JSON.stringify(m));
        if (spec.agent === "ppo") assert.ok("losses/approxKl" in m && "losses/vLoss" in m);
        for (const [k, v] of Object.entries(m)) {
          assert.match(k, /^(losses|rollout|charts)\//);
          if (k !== "losses/explainedVariance") assert.ok(Number.isFinite(v), `${k} = ${v}`);
        }
      }
      agent.dispose?.();
    });

    it("same seed → same actions and weights; another seed → different", async () => {
      const [a, b, c] = [build(spec, 1), build(spec, 1), build(spec, 2)];
      const ra = await runToy(a, 40);
      assert.deepEqual((await runToy(b, 40)).actions, ra.actions);
      assert.deepEqual(weightsOf(b), weightsOf(a));
      assert.notDeepEqual((await runToy(c, 40)).actions, ra.actions);
      [a, b, c].forEach((x) => x.dispose?.());
    });

    it("save → JSON → load mid-rollout (after an update) continues bit-identically", async () => {
      const a = build(spec, 3);
      await runToy(a, 21, 11); // past the first update, with a partly filled buffer
      const state = JSON.parse(JSON.stringify(a.save()));
      const b = build(spec, 999); // different init and rng: everything must come from the state
      b.load(state);
      const rb = await runToy(b, 40, 12);
      const ra = await runToy(a, 40, 12);
      assert.deepEqual(rb.actions, ra.actions);
      assert.deepEqual(rb.metrics, ra.metrics);
      assert.ok(ra.metrics.length >= 2);
      assert.deepEqual(weightsOf(b), weightsOf(a));
      assert.throws(() => build(spec, 1, SPACE2).load(state), /saved for action space/);
      [a, b].forEach((x) => x.dispose?.());
    });

    it("does not leak tensors across act/observe/update", async () => {
      const agent = build(spec, 4);
      await runToy(agent, 17);
      const before = tf.memory().numTensors;
      await runToy(agent, 48);
      assert.equal(tf.memory().numTensors, before);
      agent.dispose?.();
    });

    it("learns the toy problem: p(best arm) rises from ~1/20 to > 0.5 within 300 steps", async () => {
      const agent = build(spec, 5) as ReinforceAgent | PpoAgent;
      const obs = toyObservation(150, 300, new Rng(1));
      const p0 = agent.probabilities(obs);
      const { actions } = await runToy(agent, 300);
      const p1 = agent.probabilities(obs);
      const pBest = (p: { ops: number[]; bins: number[] }) => p.ops[BEST_OP]! * p.bins[BEST_BIN]!;
      assert.ok(Math.abs(pBest(p0) - 1 / 20) < 0.01, `initial p(best) ${pBest(p0)}: the policy should start near uniform`);
      assert.ok(pBest(p1) > 0.5, `final p(best) ${pBest(p1)}`);
      assert.ok(bestRate(actions.slice(-100)) > 0.4, `late best rate ${bestRate(actions.slice(-100))}`);
      agent.dispose?.();
    });
  });
}

describe("reinforce uniformMix (exploration floor)", () => {
  const mixed = (eps: number, seed: number, space = SPACE) =>
    build({ agent: "reinforce", params: { hiddenSizes: [32], learningRate: 0.01, updateEvery: 8, uniformMix: eps } }, seed, space) as ReinforceAgent;

  it("reports the mixture's log-probability of the action it takes", () => {
    const agent = mixed(0.3, 1, SPACE2);
    const obs = toyObservation(0, 10, new Rng(2));
    const p = agent.probabilities(obs);
    for (let i = 0; i < 30; i++) {
      const a = agent.act(obs);
      const policyLp = a.ops.reduce((lp, op, s) => lp + Math.log(p.ops[op]!) + (op === 0 ? 0 : Math.log(p.bins[a.bins[s]!]!)), 0);
      const uniformLp = a.ops.reduce((lp, op) => lp - Math.log(SPACE.ops.length) - (op === 0 ? 0 : Math.log(SPACE.magnitudeBins.length)), 0);
      assert.ok(Math.abs(a.logProb! - Math.log(0.7 * Math.exp(policyLp) + 0.3 * Math.exp(uniformLp))) < 1e-5, `logProb ${a.logProb}`);
    }
    assert.ok(Math.abs(mixtureLogProb(Math.log(0.2), Math.log(0.05), 0.5) - Math.log(0.125)) < 1e-12);
    assert.ok(Number.isFinite(mixtureLogProb(-2000, -3, 0.1)), "no underflow when the policy's probability is tiny");
    agent.dispose();
  });

  it("still learns the toy problem, but keeps every op in play: no collapse onto the best arm", async () => {
    const eps = 0.5;
    const floorAgent = mixed(eps, 5);
    const { actions } = await runToy(floorAgent, 300);
    const late = actions.slice(-150);
    // the policy part concentrates on the best arm (as without the floor) ...
    const obs = toyObservation(150, 300, new Rng(1));
    const p = floorAgent.probabilities(obs);
    assert.ok(p.ops[BEST_OP]! * p.bins[BEST_BIN]! > 0.5, `policy p(best) ${JSON.stringify(p)}`);
    assert.ok(bestRate(late) > 0.15, `late best rate (uniform: 0.05) ${bestRate(late)}`);
    // ... while the actions taken keep the uniform share ε / |ops| of every op (here 12.5 %; the
    // bound leaves room for sampling noise over 150 steps)
    for (let op = 0; op < SPACE.ops.length; op++) {
      const share = late.filter((a) => a.ops[0] === op).length / late.length;
      assert.ok(share > 0.05, `op ${op} share ${share}`);
    }
    const plain = build(SPECS[0]!, 5) as ReinforceAgent;
    const rest = (await runToy(plain, 300)).actions.slice(-150);
    const minShare = (xs: typeof late) => Math.min(...SPACE.ops.map((_, op) => xs.filter((a) => a.ops[0] === op).length / xs.length));
    assert.ok(minShare(rest) < minShare(late), `without the floor some op is rarer: ${minShare(rest)} vs ${minShare(late)}`);
    [floorAgent, plain].forEach((x) => x.dispose());
  });

  it("uniformMix 0 leaves the agent unchanged and out-of-range values are refused", async () => {
    const [a, b] = [mixed(0, 1), build(SPECS[0]!, 1)];
    assert.deepEqual((await runToy(a, 40)).actions, (await runToy(b, 40)).actions);
    const saved = a.save();
    delete (saved.config as Record<string, unknown>).uniformMix;
    const c = mixed(0, 9);
    c.load(JSON.parse(JSON.stringify(saved)));
    assert.deepEqual((await runToy(c, 20, 3)).actions, (await runToy(a, 20, 3)).actions, "a state saved before uniformMix existed resumes");
    assert.throws(() => mixed(0.2, 9).load(saved), /config/);
    c.dispose();
    assert.throws(() => mixed(1, 1), /uniformMix.*\[0,1\)/);
    assert.throws(() => mixed(-0.1, 1), /uniformMix/);
    [a, b].forEach((x) => x.dispose?.());
  });
});

describe("ppo advantages", () => {
  it("terminated cuts the bootstrap, truncated bootstraps from V(s'), and GAE stops at both", async () => {
    const agent = build({ agent: "ppo", params: { hiddenSizes: [8], numSteps: 4, gamma: 0.5, gaeLambda: 0.5 } }, 1) as PpoAgent;
    const values = Float32Array.from([1, 2, 3, 4]);
    const nextValues = Float32Array.from([10, 20, 30, 40]);
    const obs = new Float32Array(OBS_DIM);
    const flags = [
      [false, false],
      [true, false],
      [false, true],
      [false, false],
    ];
    for (const [terminated, truncated] of flags) {
      agent.observe({ observation: obs, action: { ops: [0], bins: [0], magnitudes: [0] }, reward: 1, nextObservation: obs, terminated: terminated!, truncated: truncated! });
    }
    const { advantages } = (agent as unknown as { computeAdvantages(v: Float32Array, nv: Float32Array): { advantages: number[] } }).computeAdvantages(values, nextValues);
    const d3 = 1 + 0.5 * 40 - 4; // rollout end, not done: bootstrap
    const d2 = 1 + 0.5 * 30 - 3; // truncated: bootstrap, no GAE flow from t=3
    const d1 = 1 + 0 - 2; // terminated: no bootstrap
    const d0 = 1 + 0.5 * 10 - 1;
    assert.deepEqual(advantages, [d0 + 0.25 * d1, d1, d2, d3]);
    agent.dispose();
  });
});
