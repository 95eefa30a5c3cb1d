/**
 * The contrastive step (src/models/contrastive.ts): it trains, its recommendation part is the
 * plain loss, InfoNCE's closed-form gradient equals autodiff, same-target masking, and the
 * gradient-caching sharded step equals the unsharded one up to float rounding.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { CONTRASTIVE_DEFAULTS, infoNceGradient, infoNceLoss, nceMasks, type ContrastiveOptions, type ContrastiveViews } from "../src/models/contrastive.ts";
import { SASRec, type SASRecConfig } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";

const NUM_ITEMS = 30;
const CONFIG: Partial<SASRecConfig> = { hiddenSize: 16, numBlocks: 1, numHeads: 2, innerSize: 32, maxLen: 8, dropout: 0.1, learningRate: 1e-2 };
const OPTS: ContrastiveOptions = { ...CONTRASTIVE_DEFAULTS, weight: 0.5, temperature: 0.5 };

/** 12 users with random sequences of 3..9 items (ids 1..NUM_ITEMS), fixed by the seed. */
function tinyBatch(): TrainBatch {
  const rng = new Rng(5).child("data");
  const seqs = Array.from({ length: 12 }, () => Int32Array.from({ length: rng.intBetween(3, 9) }, () => 1 + rng.int(NUM_ITEMS)));
  return { users: Int32Array.from(seqs.keys()), seqs, numItems: NUM_ITEMS };
}

const inputs = (s: Int32Array) => s.subarray(0, s.length - 1);

/** Two hand-made views: drop the oldest item; mask every third input with the mask token. */
function tinyViews(batch: TrainBatch): ContrastiveViews {
  return {
    first: batch.seqs.map((s) => inputs(s.length > 2 ? s.subarray(1) : s)),
    second: batch.seqs.map((s) => inputs(s.map((x, i) => (i % 3 === 1 ? NUM_ITEMS + 1 : x)))),
  };
}

function maxAbsDiff(a: ReturnType<SASRec["getWeights"]>, b: ReturnType<SASRec["getWeights"]>): number {
  let d = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k]!.data.length; i++) d = Math.max(d, Math.abs(a[k]!.data[i]! - b[k]!.data[i]!));
  return d;
}

before(async () => {
  await selectBackend("wasm", null);
});

test("contrastive loss is finite and decreases on a fixed tiny batch (augmented views and anchor views)", () => {
  const batch = tinyBatch();
  for (const views of [tinyViews(batch), { first: "anchor" as const, second: batch.seqs.map(inputs) }]) {
    const model = new SASRec(CONFIG, NUM_ITEMS, new Rng(1).child("model"));
    const losses = Array.from({ length: 12 }, () => model.trainStepContrastive(batch, views, OPTS));
    for (const l of losses) assert.ok(Number.isFinite(l), `loss not finite: ${losses.join(", ")}`);
    const head = (losses[0]! + losses[1]! + losses[2]!) / 3;
    const tail = (losses[9]! + losses[10]! + losses[11]!) / 3;
    assert.ok(tail < head, `loss did not decrease: first three mean ${head}, last three mean ${tail}`);
    model.dispose();
  }
});

test("with weight 0 and no dropout the step is the plain step (the view rows change nothing)", () => {
  const batch = tinyBatch();
  const config = { ...CONFIG, dropout: 0 };
  const a = new SASRec(config, NUM_ITEMS, new Rng(3).child("model"));
  const b = new SASRec(config, NUM_ITEMS, new Rng(3).child("model"));
  const la = [a.trainStep(batch), a.trainStep(batch)];
  const lb = [b.trainStepContrastive(batch, tinyViews(batch), { ...OPTS, weight: 0 }), b.trainStepContrastive(batch, tinyViews(batch), { ...OPTS, weight: 0 })];
  la.forEach((l, i) => assert.ok(Math.abs(l - lb[i]!) < 1e-6 * l, `loss ${l} vs ${lb[i]}`));
  assert.ok(maxAbsDiff(a.getWeights(), b.getWeights()) < 1e-6);
  a.dispose();
  b.dispose();
});

test("views must hold the same users as the batch; options are checked", () => {
  const batch = tinyBatch();
  const views = tinyViews(batch);
  const model = new SASRec(CONFIG, NUM_ITEMS, new Rng(1).child("model"));
  assert.throws(() => model.trainStepContrastive(batch, { ...views, second: views.second.slice(1) }, OPTS), /`views.second` has 11 sequences, `batch` has 12; views must hold the same users/);
  assert.throws(() => model.trainStepContrastive(batch, views, { ...OPTS, temperature: 0 }), /`temperature` must be > 0, got 0/);
  model.dispose();
});

test("InfoNCE: the closed-form gradient equals autodiff (cos and dot, with same-target masking)", () => {
  const n = 8;
  const d = 5;
  const z = tf.randomNormal([n, d], 0, 1, "float32", 3).dataSync() as Float32Array;
  const masks = nceMasks(Int32Array.from([1, 2, 1, 3]), true);
  for (const similarity of ["cos", "dot"] as const) {
    const opts = { ...CONTRASTIVE_DEFAULTS, similarity, temperature: 0.7, weight: 0.3 };
    const { loss, grad } = infoNceGradient(z, n, d, masks, opts);
    const auto = tf.tidy(() => {
      const f = (x: tf.Tensor) => tf.mul(infoNceLoss(x as tf.Tensor2D, masks, opts), opts.weight);
      return { loss: infoNceLoss(tf.tensor2d(z, [n, d]), masks, opts).dataSync()[0]!, grad: tf.grad(f)(tf.tensor2d(z, [n, d])).dataSync() };
    });
    assert.ok(Math.abs(loss - auto.loss) < 1e-6, `${similarity}: loss ${loss} vs ${auto.loss}`);
    let worst = 0;
    grad.forEach((g, i) => (worst = Math.max(worst, Math.abs(g - auto.grad[i]!))));
    assert.ok(worst < 1e-6, `${similarity}: max gradient difference ${worst}`);
  }
});

test("same-target masking: users sharing the next item are not each other's negatives", () => {
  const n = 8;
  const z = tf.randomNormal([n, 4], 0, 1, "float32", 4).dataSync() as Float32Array;
  const loss = (targets: number[], mask: boolean) => infoNceGradient(z, n, 4, nceMasks(Int32Array.from(targets), mask), CONTRASTIVE_DEFAULTS).loss;
  assert.equal(loss([1, 2, 3, 4], true), loss([1, 2, 3, 4], false), "distinct targets: nothing to mask");
  assert.ok(loss([1, 2, 1, 4], true) < loss([1, 2, 1, 4], false), "masking removes negatives, so the loss drops");
  const m = nceMasks(Int32Array.from([1, 2, 1, 4]), true);
  // Row 0 (user 0, first view): self (0), and user 2's two views (2, 6) are masked; its positive (4) is not.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].filter((j) => m.additive[j]! < 0), [0, 2, 6]);
});

test("sharded by gradient caching = unsharded with autodiff, up to float rounding (no dropout, 4 steps)", () => {
  const batch = tinyBatch();
  for (const views of [tinyViews(batch), { first: "anchor" as const, second: batch.seqs.map(inputs) }]) {
    for (const loss of ["bce", "sampled-softmax"] as const) {
      const run = (gradientShards: number) => {
        const model = new SASRec({ ...CONFIG, dropout: 0, loss, negatives: 16, gradientShards }, NUM_ITEMS, new Rng(9).child("model"));
        const losses = Array.from({ length: 4 }, () => model.trainStepContrastive(batch, views, OPTS));
        const w = model.getWeights();
        model.dispose();
        return { losses, w };
      };
      const one = run(1);
      for (const shards of [2, 3]) {
        const many = run(shards);
        one.losses.forEach((l, i) => assert.ok(Math.abs(l - many.losses[i]!) < 1e-5 * Math.abs(l), `${loss}, ${shards} shards: loss ${l} vs ${many.losses[i]}`));
        // Measured below 1e-6; each step moves a weight by up to lr = 1e-2.
        const diff = maxAbsDiff(one.w, many.w);
        assert.ok(diff < 1e-5, `${loss}, ${shards} shards: max weight difference ${diff}`);
      }
    }
  }
});

test("steps leave no tensors behind, sharded or not (a leaked gradient set per sharded contrastive step filled the wasm heap within 9 Beauty epochs)", () => {
  const batch = tinyBatch();
  const views = tinyViews(batch);
  for (const gradientShards of [1, 2, 3]) {
    for (const loss of ["bce", "sampled-softmax"] as const) {
      const model = new SASRec({ ...CONFIG, loss, negatives: 16, gradientShards }, NUM_ITEMS, new Rng(9).child("model"));
      // The first steps create the optimizer's moments; count from there.
      model.trainStepContrastive(batch, views, OPTS);
      model.trainStep(batch);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        model.trainStepContrastive(batch, views, OPTS);
        model.trainStep(batch);
      }
      assert.equal(tf.memory().numTensors, before, `${loss}, ${gradientShards} shard(s): tensors alive after 3 more contrastive + plain steps`);
      model.dispose();
    }
  }
});
