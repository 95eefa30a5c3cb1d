import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, it } from "node:test";
import { runExperiment } from "../src/cli/experiment.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import type { StepRow } from "../src/record/schema.ts";

const rows = (dir: string) =>
  readArrowStream<StepRow>(path.join(dir, "steps.arrows")).rows.map((r) => ({
    episode: r.episode, step: r.step, ops: [...r.ops], magnitudes: [...r.magnitudes], reward: r.reward, loss: r.train_loss,
    obs: Array.from(r.observation), logProb: r.log_prob,
  }));

const out = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-par-"));
after(() => fs.rmSync(out, { recursive: true, force: true }));

it("parallel episodes: worker threads change where episodes run, not the results", async () => {
  const common = { env: "test/fixtures/env/tiny.json", agent: "policies/reinforce.json", episodes: 4, parallelEpisodes: 2, seed: 3, out, backend: "wasm" as const, log: null };
  const one = await runExperiment({ ...common, workers: 1, runId: "w1" });
  const two = await runExperiment({ ...common, workers: 2, runId: "w2" });
  const a = rows(one.runDir);
  assert.equal(new Set(a.map((r) => r.episode)).size, 4);
  assert.deepEqual(rows(two.runDir), a);
  assert.deepEqual(two.episodes.map((e) => e.test), one.episodes.map((e) => e.test));
  // The two episodes of a round act with their own streams: not the same action sequence.
  const ep = (k: number) => a.filter((r) => r.episode === k).map((r) => r.ops.join());
  assert.notDeepEqual(ep(0), ep(1));
});
