// `es`: antithetic episode pairs with common random numbers, learning a schedule from episode returns.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, it } from "node:test";
import { createAgent, EsAgent, esSchedule } from "../src/agents/index.ts";
import type { Action } from "../src/agents/types.ts";
import { exportPolicy } from "../src/cli/analysis.ts";
import { FINAL_AGENT_FILE } from "../src/cli/checkpoint.ts";
import { runExperiment } from "../src/cli/experiment.ts";
import { episodeAgentState } from "../src/cli/parallel.ts";
import { Rng } from "../src/core/rng.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import { selectBackend } from "../src/tf/backend.ts";
import { BEST_BIN, BEST_OP, OBS_DIM, runToy, SPACE } from "./agents-toy.ts";
import { tempDirs } from "./tmp-dirs.ts";

const tmp = tempDirs("agents-es");
before(async () => {
  await selectBackend("wasm", null);
});

const same = (a: Action[], b: Action[]) => a.every((x, i) => x.ops[0] === b[i]!.ops[0] && x.bins[0] === b[i]!.bins[0]);

it("es finds the toy's best op and magnitude from episode returns (mean schedule, not one episode's actions)", async () => {
  const agent = new EsAgent({ phases: 1, learningRate: 0.3 }, SPACE, OBS_DIM, new Rng(1, "agent"));
  const uniform = 1 / SPACE.ops.length;
  await runToy(agent, 20 * 2 * 80, 7, 20);
  const [phase] = agent.schedule().phases;
  const best = phase!.ops[BEST_OP]!;
  assert.ok(best.prob > 0.5, `mask's probability ${best.prob.toFixed(3)} should have risen well above uniform ${uniform}`);
  assert.equal(Math.max(...phase!.ops.map((o) => o.prob)), best.prob, "mask is the most likely op");
  const bins = Object.values(best.magnitudes);
  assert.equal(Math.max(...bins), best.magnitudes[String(SPACE.magnitudeBins[BEST_BIN])], "bin 0.2 is the most likely magnitude");
  assert.equal(agent.save().numUpdates, 80, "one update per pair of episodes");
});

it("the two episodes of a pair replay the same uniforms: identical actions for a tiny sigma, different ones for a large sigma", async () => {
  for (const [sigma, expectSame] of [[1e-6, true], [5, false]] as const) {
    const agent = new EsAgent({ phases: 1, sigma }, SPACE, OBS_DIM, new Rng(2, "agent"));
    const { actions } = await runToy(agent, 40, 7, 20);
    assert.equal(same(actions.slice(0, 20), actions.slice(20, 40)), expectSame, `sigma ${sigma}`);
  }
});

it("a parallel round's copies play the + and − sides of the pair from the group's stream; save/load continues exactly", async () => {
  const spec = { agent: "es" as const, params: { phases: 2, sigma: 1e-6 } };
  const shared = createAgent(spec, SPACE, OBS_DIM, new Rng(3, "agent")).save();
  const s0 = episodeAgentState(shared, 3, 0, 2);
  const s1 = episodeAgentState(shared, 3, 1, 2);
  assert.deepEqual(s0.rng, s1.rng, "both episodes of a pair get one stream");
  assert.equal(s1.episode, 1);
  assert.notDeepEqual(episodeAgentState(shared, 3, 2, 2).rng, s0.rng, "the next pair gets another");
  const play = async (state: typeof s0) => {
    const a = createAgent(spec, SPACE, OBS_DIM, new Rng(9));
    a.load(state);
    return (await runToy(a, 20, 7, 20)).actions;
  };
  assert.ok(same(await play(s0), await play(s1)), "tiny sigma: the two sides act alike from the shared stream");
  // Mid-episode save → load → the same continuation as the agent that never stopped.
  const a = new EsAgent({}, SPACE, OBS_DIM, new Rng(4, "agent"));
  await runToy(a, 50, 7, 20);
  const b = new EsAgent({}, SPACE, OBS_DIM, new Rng(99, "agent"));
  b.load(a.save());
  const ra = await runToy(a, 60, 8, 20);
  const rb = await runToy(b, 60, 8, 20);
  assert.deepEqual(rb.actions, ra.actions);
  assert.deepEqual(b.save(), a.save());
});

it("a run pairs episodes on one env seed, plays the same files on 1 and 2 workers, saves the final agent and exports its mean schedule", async () => {
  const out = tmp();
  const agentFile = path.join(out, "es-2phases.json");
  fs.writeFileSync(agentFile, JSON.stringify({ agent: "es", params: { phases: 2 } }));
  const opts = { env: "test/fixtures/intent/tiny.json", agent: agentFile, episodes: 4, parallelEpisodes: 2, seed: 5, runId: "es", backend: "wasm" as const, log: null };
  const p1 = await runExperiment({ ...opts, workers: 1, out: path.join(out, "w1") });
  const p2 = await runExperiment({ ...opts, workers: 2, out: path.join(out, "w2") });
  const rows = (dir: string, file: string) => readArrowStream<Record<string, unknown>>(path.join(dir, file)).rows.map(({ wall_ms: _w, duration_s: _d, ...r }) => r);
  assert.deepEqual(rows(p2.runDir, "steps.arrows"), rows(p1.runDir, "steps.arrows"));
  const seeds = rows(p1.runDir, "episodes.arrows").map((r) => r.seed);
  assert.deepEqual(seeds, ["5/episode-0", "5/episode-0", "5/episode-2", "5/episode-2"]);
  const final = JSON.parse(fs.readFileSync(path.join(p1.runDir, FINAL_AGENT_FILE), "utf8"));
  assert.equal(final.numUpdates, 2, "one update per finished pair");
  const exported = exportPolicy({ run: p1.runDir, out: path.join(out, "policy.json") });
  assert.deepEqual(exported.schedule, esSchedule(final));
  assert.equal(exported.from, "agent");
  assert.equal(exported.schedule.phases.length, 2);
  // The mean schedule needs only the final agent: a kept run folder may leave its steps log out.
  fs.rmSync(path.join(p2.runDir, "steps.arrows"));
  assert.deepEqual(exportPolicy({ run: p2.runDir, out: path.join(out, "policy2.json") }).schedule, exported.schedule);
  // Replaying the export is an ordinary schedule run.
  const replay = await runExperiment({ env: opts.env, agent: path.join(out, "policy.json"), episodes: 1, seed: 6, out, runId: "replay", backend: "wasm", log: null });
  assert.equal(replay.episodes.length, 1);
});

it("es refuses episode counts and parallel rounds that split a pair", async () => {
  const base = { env: "test/fixtures/intent/tiny.json", agent: "policies/es.json", seed: 1, out: tmp(), backend: "wasm" as const, log: null };
  await assert.rejects(runExperiment({ ...base, episodes: 3 }), /`--episodes` \(3\) must be a multiple of 2/);
  await assert.rejects(runExperiment({ ...base, episodes: 6, parallelEpisodes: 3 }), /`--parallel-episodes` \(3\) must be a multiple of 2/);
});
