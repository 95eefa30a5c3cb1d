// `rl-train baseline --save-model` → model.json → an env spec with `rl.warmStart` starts episodes from it.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import { runBaseline } from "../src/cli/baseline-run.ts";
import { AugmentEnv, loadEnvSpec, loadSpecData } from "../src/env/index.ts";
import { loadModelFile } from "../src/models/model-file.ts";
import { evaluate } from "../src/models/evaluate.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { Rng } from "../src/core/rng.ts";
import { selectBackend } from "../src/tf/backend.ts";

const SPEC = path.resolve("test/fixtures/env/tiny.json");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-warm-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let modelFile = "";

before(async () => {
  await selectBackend("wasm", null);
  const r = await runBaseline({ env: SPEC, epochs: 2, evalEvery: 1, saveModel: true, out: tmp, progress: "none", print: () => {}, log: () => {}, evalThreads: 1 });
  modelFile = path.join(r.runDir, "model.json");
});

/** The tiny spec with `rl.warmStart` set, written next to it so relative paths resolve. */
function warmSpec(target: string): string {
  const raw = JSON.parse(fs.readFileSync(SPEC, "utf8"));
  raw.dataset.path = path.resolve(path.dirname(SPEC), raw.dataset.path);
  raw.rl.warmStart = target;
  const file = path.join(tmp, `warm-${path.basename(path.dirname(target))}.json`);
  fs.writeFileSync(file, JSON.stringify(raw));
  return file;
}

it("baseline --save-model writes the best-validation weights and Adam moments", () => {
  const spec = loadEnvSpec(SPEC);
  const { split } = loadSpecData(spec);
  const m = loadModelFile(modelFile, { config: spec.model, numItems: split.dataset.numItems }, "test");
  assert.ok(m.epoch >= 1 && m.epoch <= 2);
  assert.ok(m.optimizer.step > 0, "Adam step count saved");
  // The saved weights reproduce the recorded validation metrics.
  const model = new SASRec(m.config, m.numItems, new Rng(0));
  model.setWeights(m.weights);
  const v = evaluate(model, split, "valid", { runner: null }).metrics;
  assert.equal(v["NDCG@10"], m.valid!["NDCG@10"]);
  model.dispose();
});

it("an env with rl.warmStart starts every episode from the saved model, with the seed's own streams", async () => {
  const spec = loadEnvSpec(warmSpec(modelFile));
  const cold = loadEnvSpec(SPEC);
  const { split } = loadSpecData(spec);
  const saved = loadModelFile(modelFile, { config: spec.model, numItems: split.dataset.numItems }, "test");
  const env = new AugmentEnv(spec, split);
  const coldEnv = new AugmentEnv(cold, split);
  const obsWarm = env.reset({ seed: 5 }).observation;
  const obsCold = coldEnv.reset({ seed: 5 }).observation;
  // Observation index 4 holds the reward-subset metric: a trained model scores higher than a fresh one.
  assert.ok(obsWarm[4]! > obsCold[4]!, `warm ${obsWarm[4]} vs cold ${obsCold[4]}`);
  const state = env.getState();
  assert.deepEqual(state.model.weights["item_emb"]!.data, saved.weights["item_emb"]!.data);
  assert.equal(state.model.optimizer.step, saved.optimizer.step);
  // Two seeds: same start, different dropout/negative streams → different first steps.
  const a = await env.step({ ops: [0], magnitudes: [0] });
  env.reset({ seed: 6 });
  const b = await env.step({ ops: [0], magnitudes: [0] });
  assert.notEqual(a.info.trainLoss, b.info.trainLoss);
  env.dispose();
  coldEnv.dispose();
});

it("a missing or mismatched warm-start file is a clear error when the env is built", () => {
  const { split } = loadSpecData(loadEnvSpec(SPEC));
  const missing = loadEnvSpec(warmSpec(path.join(tmp, "nowhere", "model.json")));
  assert.throws(() => new AugmentEnv(missing, split), /rl\.warmStart.*no model file.*--save-model/s);
  const wide = loadEnvSpec(warmSpec(modelFile));
  wide.model = { ...wide.model, hiddenSize: 32 };
  assert.throws(() => new AugmentEnv(wide, split), /model\.hiddenSize = 16, the spec says 32/);
});
