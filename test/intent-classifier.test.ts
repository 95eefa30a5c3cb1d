import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import { embeddingBagHost, embeddingLookupHost } from "../src/tf/ops.ts";
import { IntentClassifier } from "../src/models/intent-classifier.ts";
import { fnv1a, textFeatures, tokenize } from "../src/models/intent-features.ts";
import { predictWithThreshold } from "../src/models/intent-metrics.ts";
import { selectBackend } from "../src/tf/backend.ts";

before(async () => {
  await selectBackend("wasm", null);
});

// Two intents told apart by their words only; held-out queries reuse the words in new combinations.
const TRAIN = [
  ["where is my parcel", 0], ["track my parcel", 0], ["parcel not delivered", 0], ["when does the parcel arrive", 0],
  ["refund my money", 1], ["i want a refund", 1], ["money back please", 1], ["refund not received", 1],
] as const;
const HELD_OUT = [["track the parcel please", 0], ["my refund please", 1], ["refund the money", 1], ["parcel arrive when", 0]] as const;

test("features: lowercased words, hashed ids within the table, n-grams and bigrams, typos share n-grams", () => {
  assert.deepEqual(tokenize("Where's my ORDER?? #123"), ["where's", "my", "order", "123"]);
  const f = textFeatures("order status", { buckets: 1000, minN: 3, maxN: 4, wordBigrams: true, maxWords: 32 });
  assert.equal(f.words.length, 2);
  assert.equal(f.bigrams.length, 1);
  for (const w of f.words) for (const id of w) assert.ok(id >= 0 && id < 1000);
  assert.equal(f.words[0]![0], fnv1a("w:order") % 1000);
  const typo = textFeatures("ordre", { buckets: 1 << 20, minN: 3, maxN: 5, wordBigrams: true, maxWords: 32 }).words[0]!;
  const right = textFeatures("order", { buckets: 1 << 20, minN: 3, maxN: 5, wordBigrams: true, maxWords: 32 }).words[0]!;
  assert.ok([...typo].some((id) => right.includes(id)), "a typo keeps some n-grams");
  assert.equal(textFeatures("???").words.length, 1, "a query without words still has a feature");
});

for (const arch of ["bag", "cnn"] as const) {
  test(`${arch}: learns a tiny separable dataset and generalises to new word combinations`, () => {
    const model = new IntentClassifier({ arch, dim: 16, buckets: 4096, filters: 16, learningRate: 0.05, dropout: 0 }, 2, new Rng(1, "model"));
    const texts = TRAIN.map((r) => r[0]);
    const labels = TRAIN.map((r) => r[1]);
    const first = model.trainStep(texts, labels);
    let last = first;
    for (let i = 0; i < 40; i++) last = model.trainStep(texts, labels);
    assert.ok(last < first / 4, `loss ${first} → ${last}`);
    const pred = predictWithThreshold(model.predictProbs(HELD_OUT.map((r) => r[0])), 2);
    assert.deepEqual([...pred], HELD_OUT.map((r) => r[1]));
    model.dispose();
  });
}

test("same seed → identical weights after training; getState/setState continues bit-exactly (dropout stream included)", () => {
  const cfg = { dim: 8, buckets: 512, dropout: 0.3, learningRate: 0.02 };
  const texts = TRAIN.map((r) => r[0]);
  const labels = TRAIN.map((r) => r[1]);
  const a = new IntentClassifier(cfg, 2, new Rng(5, "model"));
  const b = new IntentClassifier(cfg, 2, new Rng(5, "model"));
  for (let i = 0; i < 3; i++) assert.equal(a.trainStep(texts, labels), b.trainStep(texts, labels));
  const saved = a.getState();
  const la = [a.trainStep(texts, labels), a.trainStep(texts, labels)];
  const c = new IntentClassifier(cfg, 2, new Rng(99, "model"));
  c.setState(saved);
  const lc = [c.trainStep(texts, labels), c.trainStep(texts, labels)];
  assert.deepEqual(lc, la);
  assert.deepEqual(c.predictProbs(texts), a.predictProbs(texts));
  const other = new IntentClassifier({ ...cfg, dim: 4 }, 2, new Rng(5));
  assert.throws(() => other.setState(saved), /weight `emb` has 4096 floats, the model needs 2048/);
  for (const m of [a, b, c, other]) m.dispose();
});

test("bad inputs name the parameter and the value", () => {
  assert.throws(() => new IntentClassifier({}, 1, new Rng(1)), /`numClasses` must be an integer >= 2, got 1/);
  const m = new IntentClassifier({ dim: 4, buckets: 64 }, 2, new Rng(1));
  assert.throws(() => m.trainStep(["a"], [2]), /label 2 at row 0 is outside 0\.\.1/);
  assert.throws(() => m.trainStep(["a", "b"], [0]), /2 texts, 1 labels/);
  m.dispose();
});

test("embeddingBagHost: same value and gradient as gathering the rows and summing them with tf", () => {
  const rng = new Rng(3);
  const V = 20, d = 4, rows = 3, P = 5;
  const host = Float32Array.from({ length: V * d }, () => rng.normal());
  const table = tf.tensor2d(host, [V, d]);
  const ids = Int32Array.from({ length: rows * P }, () => rng.int(V));
  const weights = Float32Array.from({ length: rows * P }, (_, i) => (i % P < 3 ? 1 / 3 : 0)); // 2 padding slots per row
  ids[1] = ids[0]!; // a repeated id must get both contributions to its gradient
  const up = tf.tensor2d(Float32Array.from({ length: rows * d }, () => rng.normal()), [rows, d]);
  const viaBag = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingBagHost(t as tf.Tensor2D, host, ids, weights, rows), up)));
  const viaTf = tf.grad((t: tf.Tensor) => {
    const r = embeddingLookupHost(t as tf.Tensor2D, host, ids, [rows, P]);
    return tf.sum(tf.mul(tf.sum(tf.mul(r, tf.tensor3d(weights, [rows, P, 1])), 1), up));
  });
  const value = embeddingBagHost(table, host, ids, weights, rows).arraySync() as number[][];
  const expected = tf.sum(tf.mul(embeddingLookupHost(table, host, ids, [rows, P]), tf.tensor3d(weights, [rows, P, 1])), 1).arraySync() as number[][];
  value.flat().forEach((v, i) => assert.ok(Math.abs(v - expected.flat()[i]!) < 1e-5));
  const g1 = viaBag(table).dataSync();
  const g2 = viaTf(table).dataSync();
  assert.ok(g1.some((x) => x !== 0));
  g1.forEach((v, i) => assert.ok(Math.abs(v - g2[i]!) < 1e-5, `grad ${i}: ${v} vs ${g2[i]}`));
  assert.throws(() => embeddingBagHost(table, host, ids, weights.slice(1), rows), /`ids` \(15\) and `weights` \(14\)/);
});
