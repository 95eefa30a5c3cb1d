import { strict as assert } from "node:assert";
import { before, it } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";

before(async () => {
  await selectBackend("wasm", null);
});

it("lossDenominator replaces the batch's own position count in the loss mean", () => {
  const model = new SASRec({ hiddenSize: 16, numBlocks: 1, numHeads: 1, innerSize: 16, maxLen: 8, dropout: 0 }, 30, new Rng(1));
  const seqs = [Int32Array.from([1, 2, 3, 4]), Int32Array.from([5, 6, 7])];
  const negatives = [Int32Array.from([9, 9, 9]), Int32Array.from([9, 9])];
  const batch = { users: Int32Array.from([0, 1]), seqs, numItems: 30, negatives };
  const mean = model.evalLoss(batch); // 5 positions
  assert.ok(Math.abs(model.evalLoss({ ...batch, lossDenominator: 5 }) - mean) < 1e-6);
  assert.ok(Math.abs(model.evalLoss({ ...batch, lossDenominator: 10 }) - mean / 2) < 1e-6);
  model.dispose();
});
