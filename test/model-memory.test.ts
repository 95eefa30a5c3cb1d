/** The model memory estimate: its parameter count is SASRec's own, and the limit follows the backend. */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import { checkModelMemory, estimateModelMemory, modelMemoryLimit, sasrecParameters, WASM_HEAP_BYTES } from "../src/models/memory.ts";
import { SASRec, SASREC_DEFAULTS } from "../src/models/sasrec.ts";

before(async () => {
  await tf.setBackend("cpu");
});

test("the estimate counts exactly the parameters SASRec creates", () => {
  for (const config of [
    { hiddenSize: 8, numBlocks: 1, numHeads: 2, innerSize: 16, maxLen: 5 },
    { hiddenSize: 12, numBlocks: 3, numHeads: 3, innerSize: 7, maxLen: 9 },
  ]) {
    const model = new SASRec(config, 37, new Rng(1));
    assert.equal(sasrecParameters({ ...SASREC_DEFAULTS, ...config }, 37), model.parameterCount);
    model.dispose();
  }
});

test("bytes: 16 per parameter for training, the transposed table plus one score chunk for ranking", () => {
  const e = estimateModelMemory(SASREC_DEFAULTS, 12101, 22363);
  assert.equal(e.trainingBytes, 16 * e.parameters);
  assert.equal(e.itemTableBytes, 4 * 12103 * 64);
  assert.equal(e.chunkUsers, 512);
  assert.equal(e.scoringBytes, e.itemTableBytes + 4 * 512 * 12103);
  assert.equal(estimateModelMemory(SASREC_DEFAULTS, 100, 300).chunkUsers, 64);
});

test("limit: half the machine's memory, capped at one wasm heap unless tfjs-node runs", () => {
  const gib = 2 ** 30;
  assert.equal(modelMemoryLimit(4 * gib, "wasm").bytes, 2 * gib);
  assert.equal(modelMemoryLimit(24 * gib, "wasm").bytes, WASM_HEAP_BYTES);
  assert.equal(modelMemoryLimit(24 * gib, undefined).bytes, WASM_HEAP_BYTES);
  assert.equal(modelMemoryLimit(24 * gib, "tensorflow").bytes, 12 * gib);
  // The Beauty model fits anywhere; a 20000-wide one does not.
  assert.doesNotThrow(() => checkModelMemory("s.json", SASREC_DEFAULTS, 12101, 22363, { totalMemory: 4 * gib, tfBackend: "wasm" }));
  assert.throws(() => checkModelMemory("s.json", { ...SASREC_DEFAULTS, hiddenSize: 20000 }, 12101, 22363, { totalMemory: 24 * gib, tfBackend: "wasm" }),
    /s\.json: the model would need about \d+\.\d GB, above the limit of 4\.3 GB .*Lower `model\.hiddenSize` \(20000\), `model\.numBlocks` \(2\) or `model\.innerSize` \(256\)/);
});
