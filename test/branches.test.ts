// Paired branches: K copies start each stage from the same state, differ only in their actions,
// the best is kept; results do not depend on the threads; a killed run resumes exactly.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { resumeExperiment, runExperiment } from "../src/cli/experiment.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import type { EpisodeRow, StepRow } from "../src/record/schema.ts";
import { selectBackend } from "../src/tf/backend.ts";
import { tempDirs } from "./tmp-dirs.ts";

const SPEC = "test/fixtures/env/tiny-branches.json";
const tmp = tempDirs("branch");
before(async () => {
  await selectBackend("wasm", null);
});

const stepsOf = (dir: string) =>
  readArrowStream<StepRow>(path.join(dir, "steps.arrows")).rows.map(({ wall_ms: _w, run_id: _r, ...rest }) => rest);
const episodesOf = (dir: string) =>
  readArrowStream<EpisodeRow>(path.join(dir, "episodes.arrows")).rows.map(({ duration_s: _d, run_id: _r, ...rest }) => rest);

describe("paired branches", () => {
  it("plays every step on both branches from the same state, keeps the best, and does not depend on the threads", async () => {
    const out = tmp();
    const opts = { env: SPEC, agent: "policies/reinforce.json", episodes: 1, seed: 5, backend: "wasm" as const, log: null, evalThreads: 1 as const, trainThreads: 1 as const };
    const one = await runExperiment({ ...opts, out: path.join(out, "one"), runId: "b", workers: 1 });
    const two = await runExperiment({ ...opts, out: path.join(out, "two"), runId: "b", workers: 2 });
    const rows = stepsOf(one.runDir);
    assert.deepEqual(stepsOf(two.runDir), rows, "1 and 2 worker threads write the same steps");
    assert.deepEqual(episodesOf(two.runDir), episodesOf(one.runDir));
    const byStep = new Map<number, typeof rows>();
    for (const r of rows) byStep.set(r.step, [...(byStep.get(r.step) ?? []), r]);
    assert.ok(byStep.size >= 3);
    let differed = 0;
    for (const [step, pair] of byStep) {
      assert.deepEqual(pair.map((r) => r.branch), [0, 1], `step ${step}: one row per branch`);
      // Same start state: the observation is the same for both branches at every stage start.
      assert.deepEqual(pair[0]!.observation, pair[1]!.observation, `step ${step}: both branches start from the same state`);
      if (pair[0]!.op !== pair[1]!.op || pair[0]!.magnitude !== pair[1]!.magnitude) differed++;
      const next = byStep.get(step + 1);
      if (next) {
        // Observation index 4 is 10 × the last reward metric: the kept branch is the better one.
        const best = pair.reduce((b, r) => (r.reward! > b.reward! ? r : b), pair[0]!);
        assert.ok(Math.abs((next[0]!.observation as number[])[4]! - 10 * best.valid_ndcg10!) < 1e-5, `step ${step + 1} continues from the best branch of step ${step}`);
      }
    }
    assert.ok(differed > 0, "the branches sampled different actions at some stage");
    // The agent learned from the branches: update rows were written.
    assert.ok(readArrowStream(path.join(one.runDir, "updates.arrows")).rows.length > 0);
    const cfg = JSON.parse(fs.readFileSync(path.join(one.runDir, "config.json"), "utf8"));
    assert.deepEqual(cfg.config.env.rl.branches, { count: 2, stageSteps: 1 });
  });

  it("a run killed between stage checkpoints resumes into the same files", async () => {
    const out = tmp();
    const full = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, seed: 7, out, runId: "full", backend: "wasm", checkpointEvery: 2, log: null, workers: 1 });
    const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/env/run-child.ts", out, "killed", "5"], { encoding: "utf8", env: { ...process.env, AUGRL_TEST_SPEC: SPEC } });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    const dir = path.join(out, "killed");
    assert.ok(stepsOf(dir).length < stepsOf(full.runDir).length);
    await resumeExperiment(dir, { log: null, workers: 1 });
    assert.deepEqual(stepsOf(dir), stepsOf(full.runDir));
    assert.deepEqual(episodesOf(dir), episodesOf(full.runDir));
  });

  it("refuses --parallel-episodes with branches", async () => {
    await assert.rejects(runExperiment({ env: SPEC, agent: "policies/random.json", episodes: 2, parallelEpisodes: 2, out: tmp(), backend: "wasm", log: null }), /cannot be combined with `rl\.branches\.count`/);
  });
});

describe("rl-train search", () => {
  it("runs the branch search and its no-learning control on the same seed, prints both and exports a replayable schedule", async () => {
    const { runSearch } = await import("../src/cli/search.ts");
    const { loadAgentSpec } = await import("../src/agents/index.ts");
    let printed = "";
    const r = await runSearch({ env: "test/fixtures/env/tiny.json", budgetEpochs: 0.5, out: tmp(), backend: "wasm", log: null, print: (t) => (printed += t) });
    assert.equal(JSON.parse(fs.readFileSync(path.join(r.search.runDir, "config.json"), "utf8")).config.agent.agent, "reinforce");
    assert.equal(JSON.parse(fs.readFileSync(path.join(r.control.runDir, "config.json"), "utf8")).config.agent.agent, "trivial");
    for (const run of [r.search, r.control]) {
      const rows = stepsOf(run.runDir);
      assert.ok(rows.some((x) => x.branch === 1), "both runs play two branches");
    }
    const spec = loadAgentSpec(r.policyFile);
    assert.equal(spec.agent, "schedule");
    assert.match(printed, /\| search \(reinforce\) \|/);
    assert.match(printed, /\| control \(trivial, no learning\) \|/);
    assert.match(printed, /phase 1 \(until 25% of training\)/);
  });
});
