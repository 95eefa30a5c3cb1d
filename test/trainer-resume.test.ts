// A supervised run continued from a checkpoint equals the uninterrupted run (long benchmarks resume).
import { strict as assert } from "node:assert";
import { before, it } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { loadEnvSpec, loadSpecData } from "../src/env/spec.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { trainSupervised, type TrainerCheckpoint } from "../src/models/trainer.ts";
import { selectBackend } from "../src/tf/backend.ts";

before(async () => {
  await selectBackend("wasm", null);
});

it("trainSupervised resumed from its checkpoint ends with the same weights, logs and selection", () => {
  const spec = loadEnvSpec("test/fixtures/env/tiny.json");
  const { split } = loadSpecData(spec);
  const config = { ...spec.training, epochs: 4, evalEvery: 2, patience: 5 };
  const fresh = () => new SASRec(spec.model, split.dataset.numItems, new Rng(9).child("model"));
  const full = fresh();
  const checkpoints: TrainerCheckpoint[] = [];
  const a = trainSupervised(full, split, new Rng(9), config, {}, { onCheckpoint: (cp) => checkpoints.push(structuredClone(cp)) });
  assert.deepEqual(checkpoints.map((c) => c.epoch), [2, 4]);
  const resumed = fresh();
  const b = trainSupervised(resumed, split, new Rng(9), config, {}, { resume: checkpoints[0]! });
  assert.deepEqual(b.epochs.map((e) => [e.epoch, e.loss, e.valid]), a.epochs.map((e) => [e.epoch, e.loss, e.valid]));
  assert.equal(b.bestEpoch, a.bestEpoch);
  assert.deepEqual(b.test.metrics, a.test.metrics);
  const wa = full.getWeights();
  const wb = resumed.getWeights();
  for (const k of Object.keys(wa)) assert.deepEqual(wb[k]!.data, wa[k]!.data, k);
  full.dispose();
  resumed.dispose();
});
