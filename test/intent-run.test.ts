// The intent env through the same run loop, recorder and checkpoints as the recommender env.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, it } from "node:test";
import { resumeExperiment, runExperiment } from "../src/cli/experiment.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import { selectBackend } from "../src/tf/backend.ts";
import { tempDirs } from "./tmp-dirs.ts";

const SPEC = "test/fixtures/intent/tiny.json";
const tmp = tempDirs("intent-run");
before(async () => {
  await selectBackend("wasm", null);
});
const rowsOf = (dir: string, file: string) =>
  readArrowStream<Record<string, unknown>>(path.join(dir, file)).rows.map(({ wall_ms: _w, run_id: _r, duration_s: _d, ...rest }) => rest);

it("rl-train run plays intent episodes with metric columns named after the env's metrics; parallel rounds and resume work as for the recommender", async () => {
  const out = tmp();
  const run = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, seed: 3, out, runId: "i", backend: "wasm", checkpointEvery: 3, log: null });
  const steps = readArrowStream(path.join(run.runDir, "steps.arrows"));
  assert.ok(steps.schema.fields.some((f) => f.name === "valid_accuracy"), "a valid_accuracy column");
  assert.ok(!steps.schema.fields.some((f) => f.name === "valid_ndcg10"), "no recommender columns");
  const eps = readArrowStream<Record<string, number>>(path.join(run.runDir, "episodes.arrows")).rows;
  assert.equal(eps.length, 2);
  for (const k of ["test_accuracy", "test_inscope_accuracy", "test_oos_recall", "test_macro_f1", "valid_accuracy"]) assert.ok(Number.isFinite(eps[1]![k]), k);
  const info = JSON.parse(fs.readFileSync(path.join(run.runDir, "config.json"), "utf8"));
  assert.equal(info.env_kind, "intent");
  assert.equal(info.episode_metrics[0], "accuracy");
  // A killed run resumes into the same files.
  const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/env/run-child.ts", out, "killed", "5"], { encoding: "utf8", env: { ...process.env, AUGRL_TEST_SPEC: SPEC } });
  assert.equal(child.signal, "SIGKILL", child.stderr);
  const killed = path.join(out, "killed");
  const full = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, seed: 7, out, runId: "full", backend: "wasm", checkpointEvery: 2, log: null, workers: 1 });
  await resumeExperiment(killed, { log: null });
  assert.deepEqual(rowsOf(killed, "steps.arrows"), rowsOf(full.runDir, "steps.arrows"));
  assert.deepEqual(rowsOf(killed, "episodes.arrows"), rowsOf(full.runDir, "episodes.arrows"));
  // Parallel rounds: the same files on 1 and 2 worker threads.
  const p1 = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, parallelEpisodes: 2, workers: 1, seed: 4, out: path.join(out, "p1"), runId: "p", backend: "wasm", log: null });
  const p2 = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, parallelEpisodes: 2, workers: 2, seed: 4, out: path.join(out, "p2"), runId: "p", backend: "wasm", log: null });
  assert.deepEqual(rowsOf(p2.runDir, "steps.arrows"), rowsOf(p1.runDir, "steps.arrows"));
});

it("a killed run carried to another checkout resumes there: paths under the first checkout are read from this one", async () => {
  const out = tmp();
  const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/env/run-child.ts", out, "moved", "5"], { encoding: "utf8", env: { ...process.env, AUGRL_TEST_SPEC: SPEC } });
  assert.equal(child.signal, "SIGKILL", child.stderr);
  const moved = path.join(out, "moved");
  // Pretend the run was started in a checkout that no longer exists.
  const file = path.join(moved, "config.json");
  const info = JSON.parse(fs.readFileSync(file, "utf8"));
  const root = info.config.project_root as string;
  assert.equal(root, path.resolve("."), "config.json records the checkout");
  const elsewhere = "/nonexistent/old-checkout";
  fs.writeFileSync(file, JSON.stringify(info).split(root).join(elsewhere));
  assert.ok(JSON.parse(fs.readFileSync(file, "utf8")).config.env.dataset.train.startsWith(elsewhere));
  const lines: string[] = [];
  await resumeExperiment(moved, { log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => l.includes(`run started in ${elsewhere}`)), lines.join("\n"));
  const full = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, seed: 7, out, runId: "full", backend: "wasm", checkpointEvery: 2, log: null, workers: 1 });
  assert.deepEqual(rowsOf(moved, "steps.arrows"), rowsOf(full.runDir, "steps.arrows"));
  assert.deepEqual(rowsOf(moved, "episodes.arrows"), rowsOf(full.runDir, "episodes.arrows"));
});
