/**
 * SASRec through its public API only (trainStep, evalLoss, scoreNext, getState/setState), on
 * tiny hand-made data with the wasm backend: learning, determinism, exact state round trips,
 * length bucketing, and the optional TrainBatch fields that augmentation ops set.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { SASRec, type SASRecConfig, type SASRecState } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";

before(async () => {
  await selectBackend("wasm", null);
});

const V = 30;
const tiny: Partial<SASRecConfig> = { hiddenSize: 16, numBlocks: 1, numHeads: 1, innerSize: 32, maxLen: 10, learningRate: 0.01 };

/**
 * 20 users walking a fixed cycle through the items (item x is always followed by succ(x)),
 * starting at different items, with 4..9 items each so batches mix lengths.
 */
function cycleData() {
  const perm = Array.from({ length: V }, (_, i) => i + 1);
  new Rng(7).child("perm").shuffle(perm);
  const succ = new Map(perm.map((x, i) => [x, perm[(i + 1) % V]!]));
  const seqs = Array.from({ length: 20 }, (_, u) => {
    const s = [perm[(u * 3) % V]!];
    for (let k = 0; k < 3 + (u % 6); k++) s.push(succ.get(s[s.length - 1]!)!);
    return Int32Array.from(s);
  });
  const batch: TrainBatch = { users: Int32Array.from(seqs.keys()), seqs, numItems: V };
  return { batch, seqs };
}

function batchOf(seqs: number[][], extra: Partial<TrainBatch> = {}): TrainBatch {
  return { users: Int32Array.from(seqs.keys()), seqs: seqs.map((s) => Int32Array.from(s)), numItems: V, ...extra };
}

/** 0-based rank of `item` in score row `row` among the real items 1..V; ties and NaN count against it. */
function rankOf(scores: Float32Array, row: number, item: number): number {
  const w = V + 2;
  let rank = 0;
  for (let j = 1; j <= V; j++) if (j !== item && !(scores[row * w + j]! < scores[row * w + item]!)) rank++;
  return rank;
}

/** Bit-for-bit equality of two float arrays (distinguishes -0 from 0, unlike a tolerance). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function assertSameState(a: SASRecState, b: SASRecState, what: string) {
  assert.deepEqual(Object.keys(a.weights).sort(), Object.keys(b.weights).sort());
  for (const [name, w] of Object.entries(a.weights)) {
    assert.deepEqual(w.shape, b.weights[name]!.shape);
    assert.ok(sameBits(w.data, b.weights[name]!.data), `${what}: weight ${name} differs`);
  }
  assert.equal(a.optimizer.step, b.optimizer.step, `${what}: optimizer step`);
  for (const slot of ["m", "v"] as const) {
    for (const [name, data] of Object.entries(a.optimizer[slot])) {
      assert.ok(sameBits(data, b.optimizer[slot][name]!), `${what}: Adam ${slot} of ${name} differs`);
    }
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const softplus = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);

test("overfits a tiny dataset: loss falls and the next item ranks at the top", () => {
  const { batch, seqs } = cycleData();
  // Each history without its last item must rank that item at the top. Only the last position is
  // checked: positions count from the end of a sequence, so a shorter prefix would place its items
  // at positions the model never saw them at.
  const histories = seqs.map((s) => s.subarray(0, s.length - 1));
  const targets = seqs.map((s) => s[s.length - 1]!);
  for (const loss of ["ce", "bce"] as const) {
    const model = new SASRec({ ...tiny, dropout: 0.1, loss }, V, new Rng(1).child("model"));
    const before = model.evalLoss(batch);
    for (let step = 0; step < 60; step++) model.trainStep(batch);
    const after = model.evalLoss(batch);
    const scores = model.scoreNext(histories);
    const ranks = targets.map((t, b) => rankOf(scores, b, t));
    const hr1 = ranks.filter((r) => r < 1).length / ranks.length;
    const hr5 = ranks.filter((r) => r < 5).length / ranks.length;
    model.dispose();
    if (loss === "ce") {
      assert.ok(after < 0.1 * before, `ce loss ${before} → ${after}`);
      assert.ok(hr1 >= 0.9, `ce HR@1 ${hr1} (a random ranking gives ~0.03)`);
    } else {
      // One sampled negative per position is a weaker signal than a full softmax: it fits the loss, ranks less sharply.
      assert.ok(after < 0.3 * before, `bce loss ${before} → ${after}`);
      assert.ok(hr5 >= 0.9, `bce HR@5 ${hr5} (a random ranking gives ~0.17)`);
    }
  }
});

test("same seed, same backend, same batches → bit-identical weights; another seed → different weights", () => {
  const { batch } = cycleData();
  const other = batchOf([[3, 4, 5, 6], [9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12]]); // longer than maxLen: truncated
  // Dropout and sampled negatives on, so the model's own random streams are exercised too.
  const run = (seed: number) => {
    const model = new SASRec({ ...tiny, dropout: 0.3, loss: "bce" }, V, new Rng(seed).child("model"));
    const losses = [batch, other, batch].map((b) => model.trainStep(b));
    const state = model.getState();
    model.dispose();
    return { losses, state };
  };
  const a = run(42);
  const b = run(42);
  assert.deepEqual(a.losses, b.losses);
  assertSameState(a.state, b.state, "seed 42 twice");
  const c = run(43);
  const differing = Object.keys(a.state.weights).filter((n) => !sameBits(a.state.weights[n]!.data, c.state.weights[n]!.data));
  assert.ok(differing.includes("item_emb") && differing.length > Object.keys(a.state.weights).length / 2, `differing: ${differing}`);
});

test("getState/setState round trip restores weights and Adam state exactly", () => {
  const { batch } = cycleData();
  const more = [batchOf([[1, 2, 3, 4, 5]]), batch, batchOf([[7, 8, 9], [10, 11, 12, 13]])];
  // No dropout and a full-softmax loss: the continuation then depends only on weights and Adam
  // state, which is what SASRecState holds.
  const model = new SASRec({ ...tiny, dropout: 0, loss: "ce" }, V, new Rng(5).child("model"));
  for (let k = 0; k < 3; k++) model.trainStep(batch);
  const snapshot = model.getState();
  const scoresAtSnapshot = model.scoreNext(batch.seqs);
  const lossesA = more.map((b) => model.trainStep(b));
  const afterA = model.getState();
  assert.ok(!sameBits(afterA.weights.item_emb!.data, snapshot.weights.item_emb!.data), "training moved the weights");

  model.setState(snapshot);
  assertSameState(model.getState(), snapshot, "right after setState");
  assert.ok(sameBits(model.scoreNext(batch.seqs), scoresAtSnapshot), "scores after restore");
  const lossesB = more.map((b) => model.trainStep(b));
  assert.deepEqual(lossesB, lossesA);
  assertSameState(model.getState(), afterA, "retrained after restore");

  // A fresh model built from another seed becomes the same model.
  const fresh = new SASRec({ ...tiny, dropout: 0, loss: "ce" }, V, new Rng(999).child("model"));
  fresh.setState(afterA);
  assert.ok(sameBits(fresh.scoreNext(batch.seqs), model.scoreNext(batch.seqs)), "scores of a model restored from a state");
  const incomplete: SASRecState = { ...afterA, weights: { ...afterA.weights } };
  delete incomplete.weights.pos_emb;
  assert.throws(() => fresh.setState(incomplete), /`pos_emb`/);
  model.dispose();
  fresh.dispose();
});

test(
  "setState also restores the dropout and negative-sampling streams",
  () => {
    const { batch } = cycleData();
    const model = new SASRec({ ...tiny, dropout: 0.3, loss: "bce" }, V, new Rng(5).child("model"));
    model.trainStep(batch);
    const snapshot = model.getState();
    const a = model.trainStep(batch);
    model.setState(snapshot);
    const b = model.trainStep(batch);
    model.dispose();
    assert.equal(b, a);
  },
);

test("length bucketing and full padding give the same scores and losses for the same weights", () => {
  const { batch } = cycleData();
  const bucketed = new SASRec({ ...tiny, dropout: 0.1, lengthBucketing: true }, V, new Rng(3).child("model"));
  for (let k = 0; k < 5; k++) bucketed.trainStep(batch); // away from the initialisation, where everything is near 0
  const padded = new SASRec({ ...tiny, dropout: 0.1, lengthBucketing: false }, V, new Rng(4).child("model"));
  padded.setState(bucketed.getState());

  // Histories shorter than maxLen (10): bucketing pads them to 7, full padding to 10.
  const short = [[5], [1, 2, 3], [4, 9, 2, 7, 1, 3, 8]].map((h) => Int32Array.from(h));
  // With a history at or beyond maxLen both pad to 10; the model keeps the last 10 items.
  const long = [...short, Array.from({ length: 10 }, (_, i) => i + 1), Array.from({ length: 14 }, (_, i) => 30 - i)].map((h) => Int32Array.from(h));
  const sp = padded.scoreNext(long);
  assert.equal(sp.length, long.length * (V + 2));
  const tol = 1e-5 * Math.max(1, ...sp.map(Math.abs));
  const rows = (x: Float32Array, from: number, to: number) => x.subarray(from * (V + 2), to * (V + 2));
  const diffs = {
    "short batch": maxAbsDiff(bucketed.scoreNext(short), rows(sp, 0, 3)),
    "long batch": maxAbsDiff(bucketed.scoreNext(long), sp),
    "one history alone": maxAbsDiff(bucketed.scoreNext([short[1]!]), rows(sp, 1, 2)),
    "truncated history alone": maxAbsDiff(bucketed.scoreNext([long[4]!]), rows(sp, 4, 5)),
  };
  for (const [what, d] of Object.entries(diffs)) assert.ok(d <= tol, `${what}: scores differ by ${d} (tolerance ${tol})`);
  // Keeping the last maxLen items is the same as passing only those.
  assert.ok(maxAbsDiff(padded.scoreNext([long[4]!.subarray(4)]), rows(sp, 4, 5)) <= tol);

  const negatives = batch.seqs.map((s) => Int32Array.from({ length: s.length - 1 }, (_, j) => 1 + ((s[j]! + 7) % V)));
  const lb = bucketed.evalLoss({ ...batch, negatives });
  const lp = padded.evalLoss({ ...batch, negatives });
  assert.ok(Math.abs(lb - lp) <= 1e-5 * Math.abs(lp), `loss ${lb} vs ${lp}`);
  bucketed.dispose();
  padded.dispose();
});

test("scoreNext returns n × (numItems + 2) finite scores", () => {
  const model = new SASRec({ ...tiny, dropout: 0 }, V, new Rng(1).child("model"));
  for (const n of [1, 3, 17]) {
    const histories = Array.from({ length: n }, (_, i) => Int32Array.from({ length: 1 + (i % 12) }, (_, j) => 1 + ((i + j) % V)));
    const scores = model.scoreNext(histories);
    assert.ok(scores instanceof Float32Array);
    assert.equal(scores.length, n * (V + 2));
    assert.ok(scores.every(Number.isFinite));
  }
  assert.equal(model.vocabSize, V + 2);
  model.dispose();
});

test("explicit targets, negatives, weights and labelSmoothing of a TrainBatch are honoured", () => {
  const { batch } = cycleData();
  const bce = new SASRec({ ...tiny, dropout: 0, loss: "bce" }, V, new Rng(8).child("model"));
  for (let k = 0; k < 5; k++) bce.trainStep(batch); // scores far enough from 0 for differences to show
  const ce = new SASRec({ ...tiny, dropout: 0, loss: "ce" }, V, new Rng(9).child("model"));
  ce.setState(bce.getState());

  // One sequence a b c d: three positions; only the last is weighted. Its output sees a b c at the
  // same positions as scoreNext([a, b, c]) does, so the expected loss follows from that score row.
  const seq = [4, 11, 23, 17];
  const only = (w: number[]) => [Float32Array.from(w)];
  const neg = [Int32Array.from([2, 5, 29])];
  const row = bce.scoreNext([Int32Array.from(seq.slice(0, 3))]);
  const near = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${what}: expected ${expected}, got ${actual}`);

  // negatives + weights: BCE of the true next item (17) against the given negative (29).
  const base = batchOf([seq], { negatives: neg, weights: only([0, 0, 1]) });
  near(bce.evalLoss(base), softplus(-row[17]!) + softplus(row[29]!), "bce, last position");
  // targets: the last position is now scored against item 6.
  near(bce.evalLoss({ ...base, targets: [Int32Array.from([1, 1, 6])] }), softplus(-row[6]!) + softplus(row[29]!), "bce, explicit target");
  // labelSmoothing ε: the positive's label is 1-ε, the negative's ε.
  const eps = 0.2;
  near(
    bce.evalLoss({ ...base, labelSmoothing: eps }),
    (1 - eps) * softplus(-row[17]!) + eps * softplus(row[17]!) + eps * softplus(-row[29]!) + (1 - eps) * softplus(row[29]!),
    "bce, label smoothing",
  );

  // Zero-weight positions are ignored: changing their target or negative changes nothing.
  const l = bce.evalLoss(base);
  assert.equal(bce.evalLoss({ ...base, targets: [Int32Array.from([9, 8, 17])], negatives: [Int32Array.from([7, 3, 29])] }), l);
  // Weights all 1 mean the same as no weights; a different weight pattern changes the loss.
  const unweighted = batchOf([seq], { negatives: neg });
  assert.equal(bce.evalLoss({ ...unweighted, weights: only([1, 1, 1]) }), bce.evalLoss(unweighted));
  assert.notEqual(bce.evalLoss(unweighted), l);

  // Full softmax over the score row (all numItems + 2 columns), with and without smoothing.
  const lse = Math.log(row.reduce((s, x) => s + Math.exp(x - Math.max(...row)), 0)) + Math.max(...row);
  const mean = row.reduce((s, x) => s + x, 0) / row.length;
  near(ce.evalLoss(base), lse - row[17]!, "ce, last position");
  near(ce.evalLoss({ ...base, targets: [Int32Array.from([1, 1, 6])] }), lse - row[6]!, "ce, explicit target");
  near(ce.evalLoss({ ...base, labelSmoothing: eps }), (1 - eps) * (lse - row[17]!) + eps * (lse - mean), "ce, label smoothing");

  // trainStep trains on the same loss (no dropout here): it reports the loss before its update ...
  const expected = bce.evalLoss({ ...base, targets: [Int32Array.from([1, 1, 6])] });
  near(bce.trainStep({ ...base, targets: [Int32Array.from([1, 1, 6])] }), expected, "trainStep loss");
  bce.dispose();
  ce.dispose();

  // ... and a batch whose weights are all zero has no gradient, so no weight moves (on a fresh
  // model: after earlier steps Adam's momentum alone would move them).
  const fresh = new SASRec({ ...tiny, dropout: 0 }, V, new Rng(10).child("model"));
  const initial = fresh.getState();
  assert.equal(fresh.trainStep({ ...base, weights: only([0, 0, 0]) }), 0);
  for (const [name, w] of Object.entries(fresh.getState().weights)) assert.ok(sameBits(w.data, initial.weights[name]!.data), `${name} moved`);
  assert.notEqual(fresh.trainStep(base), 0);
  assert.ok(!sameBits(fresh.getState().weights.item_emb!.data, initial.weights.item_emb!.data), "a weighted position trains");
  fresh.dispose();
});

test("a config whose heads do not divide the hidden size is rejected with both values", () => {
  assert.throws(() => new SASRec({ ...tiny, hiddenSize: 16, numHeads: 3 }, V, new Rng(1)), /`numHeads` \(3\) must divide `hiddenSize` \(16\)/);
});
