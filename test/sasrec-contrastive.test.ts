import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { SASRec, type SASRecConfig } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";

const NUM_ITEMS = 30;
const CONFIG: Partial<SASRecConfig> = { hiddenSize: 16, numBlocks: 1, numHeads: 2, innerSize: 32, maxLen: 8, dropout: 0.1, learningRate: 1e-2 };

/** 12 users with random sequences of 3..9 items (ids 1..NUM_ITEMS), fixed by the seed. */
function tinyBatch(): TrainBatch {
  const rng = new Rng(5).child("data");
  const seqs = Array.from({ length: 12 }, () => Int32Array.from({ length: rng.intBetween(3, 9) }, () => 1 + rng.int(NUM_ITEMS)));
  return { users: Int32Array.from(seqs.keys()), seqs, numItems: NUM_ITEMS };
}

/** Two hand-made views: drop the oldest item; mask (id 0 is padding, so use the mask token) every third input. */
function tinyViews(batch: TrainBatch): [TrainBatch, TrainBatch] {
  const crop = batch.seqs.map((s) => (s.length > 2 ? s.subarray(1) : s));
  const masked = batch.seqs.map((s) => s.map((x, i) => (i % 3 === 1 ? NUM_ITEMS + 1 : x)));
  return [{ ...batch, seqs: crop }, { ...batch, seqs: masked }];
}

before(async () => {
  await selectBackend("cpu", null);
});

test("contrastive loss is finite and decreases on a fixed tiny batch", () => {
  const batch = tinyBatch();
  const views = tinyViews(batch);
  const model = new SASRec(CONFIG, NUM_ITEMS, new Rng(1).child("model"));
  const losses = Array.from({ length: 12 }, () => model.trainStepContrastive(batch, views, 0.5, 0.5));
  for (const l of losses) assert.ok(Number.isFinite(l), `loss not finite: ${losses.join(", ")}`);
  const head = (losses[0]! + losses[1]! + losses[2]!) / 3;
  const tail = (losses[9]! + losses[10]! + losses[11]!) / 3;
  assert.ok(tail < head, `loss did not decrease: first three mean ${head}, last three mean ${tail}`);
  model.dispose();
});

test("weight 0 returns trainStep's loss on the same batch and seed", () => {
  const batch = tinyBatch();
  const views = tinyViews(batch);
  const a = new SASRec(CONFIG, NUM_ITEMS, new Rng(3).child("model"));
  const b = new SASRec(CONFIG, NUM_ITEMS, new Rng(3).child("model"));
  const la = a.trainStep(batch);
  const lb = b.trainStepContrastive(batch, views, 0);
  assert.equal(lb, la);
  a.dispose();
  b.dispose();
});

test("views must hold the same users as the batch", () => {
  const batch = tinyBatch();
  const [v1, v2] = tinyViews(batch);
  const model = new SASRec(CONFIG, NUM_ITEMS, new Rng(1).child("model"));
  assert.throws(() => model.trainStepContrastive(batch, [v1, { ...v2, seqs: v2.seqs.slice(1) }], 1), /same users/);
  model.dispose();
});
