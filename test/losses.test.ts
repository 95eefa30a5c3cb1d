/**
 * The sampled losses (sampled softmax, gBCE) against their definitions: sampled softmax over
 * every other column is the full softmax, negatives avoid the user's items and are drawn row by
 * row, gBCE with t = 0 is BCE with N negatives and β follows gSASRec's formula; and both train
 * SASRec on a tiny cycle.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { gbceBeta, recommendationLoss, type LossContext, type LossKind } from "../src/models/losses.ts";
import { buildTrainArrays, type TrainArrays } from "../src/models/negatives.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";

before(async () => {
  await selectBackend("wasm", null);
});

const V = 12; // items 1..V; the table has V+2 rows (padding, items, mask token)
const d = 8;

/** A random table and hidden states for 2 rows × 3 positions (one padded), fixed by the seed. */
function fixture() {
  const table = tf.randomNormal([V + 2, d], 0, 1, "float32", 5) as tf.Tensor2D;
  const hidden = tf.randomNormal([6, d], 0, 1, "float32", 6) as tf.Tensor2D;
  const a: TrainArrays = {
    B: 2, L: 3,
    inputs: Int32Array.from([0, 4, 5, 1, 2, 3]),
    targets: Int32Array.from([0, 5, 6, 2, 3, 4]),
    negatives: new Int32Array(6),
    weights: Float32Array.from([0, 1, 1, 1, 1, 1]),
  };
  const rows = table.arraySync();
  const ctx = (kind: LossKind, extra: Partial<LossContext> = {}): LossContext => ({
    kind, itemEmb: table,
    items: (ids, shape) => tf.tensor(Array.from(ids, (i) => rows[i]!).flat(), [...shape, d]),
    ...extra,
  });
  const loss = (kind: LossKind, arrays: TrainArrays, extra: Partial<LossContext> = {}, eps = 0, rows = 6) =>
    tf.tidy(() => recommendationLoss(tf.slice(hidden, [0, 0], [rows, d]), arrays, ctx(kind, extra), eps).dataSync()[0]!);
  return { a, loss, dispose: () => { table.dispose(); hidden.dispose(); } };
}

test("sampled softmax over every other column is the full softmax (one position per row)", () => {
  const f = fixture();
  // Rows of one position each: its negatives are every column but its own target.
  const a: TrainArrays = { B: 3, L: 1, inputs: Int32Array.from([4, 2, 3]), targets: Int32Array.from([5, 3, 4]), negatives: new Int32Array(3), weights: Float32Array.from([1, 1, 1]) };
  const others = (t: number) => Array.from({ length: V + 2 }, (_, i) => i).filter((i) => i !== t);
  const sampled = Int32Array.from([...a.targets].flatMap(others));
  for (const eps of [0, 0.1]) {
    const ce = f.loss("ce", a, {}, eps, 3);
    const ss = f.loss("sampled-softmax", { ...a, sampled }, {}, eps, 3);
    assert.ok(Math.abs(ce - ss) < 1e-5 * Math.abs(ce), `ε=${eps}: ce ${ce} vs sampled ${ss}`);
  }
  f.dispose();
});

test("negatives are drawn per row from the items the user never interacted with, row by row", () => {
  const batch: TrainBatch = { users: Int32Array.from([0, 1]), seqs: [Int32Array.from([1, 2, 3, 4]), Int32Array.from([5, 6])], numItems: 8 };
  const shape = { maxLen: 10, lengthBucketing: true };
  const a = buildTrainArrays(batch, shape, 8, new Rng(3), { perPosition: false, perRow: 50 });
  assert.equal(a.sampled!.length, 100);
  assert.ok(a.sampled!.subarray(0, 50).every((j) => j >= 5 && j <= 8), "row 0 avoids 1..4");
  assert.ok(a.sampled!.subarray(50).every((j) => j >= 1 && j <= 8 && j !== 5 && j !== 6), "row 1 avoids 5 and 6");
  assert.deepEqual(Array.from(a.negatives), new Array(a.B * a.L).fill(0), "no per-position negatives");
  // Sharded steps build each shard's arrays in batch order: the same draws as the whole batch.
  const rng = new Rng(3);
  const first = buildTrainArrays({ ...batch, users: batch.users.subarray(0, 1), seqs: batch.seqs.slice(0, 1) }, shape, 8, rng, { perPosition: false, perRow: 50 });
  const second = buildTrainArrays({ ...batch, users: batch.users.subarray(1), seqs: batch.seqs.slice(1) }, shape, 8, rng, { perPosition: false, perRow: 50 });
  assert.deepEqual([...first.sampled!, ...second.sampled!], [...a.sampled!]);
});

test("gBCE: β from gSASRec's formula; t = 0 is BCE with N negatives averaged over N+1 terms", () => {
  assert.equal(gbceBeta(10, 101, 0), 1);
  assert.ok(Math.abs(gbceBeta(10, 101, 1) - 0.1) < 1e-12, "t = 1 gives β = α = N/(|I|-1)");
  assert.ok(Math.abs(gbceBeta(256, 12101, 0.75) - 0.2659) < 1e-3, `Beauty default β ${gbceBeta(256, 12101, 0.75)}`);
  const f = fixture();
  const perRow = [[1, 7, 9, 11], [8, 10, 12, 13]];
  const sp = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
  const got = f.loss("gbce", { ...f.a, sampled: Int32Array.from(perRow.flat()) }, { gbceBeta: 1 });
  // By hand: hidden·item dot products.
  const h = tf.randomNormal([6, d], 0, 1, "float32", 6).arraySync() as number[][];
  const t = tf.randomNormal([V + 2, d], 0, 1, "float32", 5).arraySync() as number[][];
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
  let sum = 0;
  let n = 0;
  for (let p = 0; p < 6; p++) {
    if (!f.a.weights[p]) continue;
    let term = sp(-dot(h[p]!, t[f.a.targets[p]!]!));
    for (const j of perRow[Math.floor(p / 3)]!) term += sp(dot(h[p]!, t[j]!));
    sum += term / 5;
    n++;
  }
  assert.ok(Math.abs(got - sum / n) < 1e-5, `gbce ${got} vs by hand ${sum / n}`);
  f.dispose();
});

test("sampled softmax and gBCE train SASRec: the loss falls and the next item ranks near the top", () => {
  const perm = Array.from({ length: 30 }, (_, i) => i + 1);
  new Rng(7).child("perm").shuffle(perm);
  const succ = new Map(perm.map((x, i) => [x, perm[(i + 1) % 30]!]));
  const seqs = Array.from({ length: 20 }, (_, u) => {
    const s = [perm[(u * 3) % 30]!];
    for (let k = 0; k < 3 + (u % 6); k++) s.push(succ.get(s[s.length - 1]!)!);
    return Int32Array.from(s);
  });
  const batch: TrainBatch = { users: Int32Array.from(seqs.keys()), seqs, numItems: 30 };
  for (const loss of ["sampled-softmax", "gbce"] as const) {
    const model = new SASRec({ hiddenSize: 16, numBlocks: 1, numHeads: 1, innerSize: 32, maxLen: 10, learningRate: 0.01, dropout: 0.1, loss, negatives: 8 }, 30, new Rng(1).child("model"));
    const before = model.evalLoss(batch);
    // gBCE's positive term is down-weighted by β < 1 and the mean runs over N+1 terms: it fits more slowly than a softmax.
    for (let step = 0; step < (loss === "gbce" ? 200 : 60); step++) model.trainStep(batch);
    const after = model.evalLoss(batch);
    const scores = model.scoreNext(seqs.map((s) => s.subarray(0, s.length - 1)));
    const hr5 = seqs.filter((s, b) => {
      const target = s[s.length - 1]!;
      let rank = 0;
      for (let j = 1; j <= 30; j++) if (j !== target && !(scores[b * 32 + j]! < scores[b * 32 + target]!)) rank++;
      return rank < 5;
    }).length / seqs.length;
    model.dispose();
    assert.ok(after < 0.5 * before, `${loss}: loss ${before} → ${after}`);
    assert.ok(hr5 >= 0.9, `${loss}: HR@5 ${hr5} (a random ranking gives ~0.17)`);
  }
});

test("a sampled loss needs a positive integer `negatives`", () => {
  assert.throws(() => new SASRec({ loss: "gbce", negatives: 0 }, 10, new Rng(1)), /`negatives` must be an integer >= 1 for loss `gbce`, got 0/);
  assert.throws(() => new SASRec({ gbceT: 2 }, 10, new Rng(1)), /`gbceT` must be in \[0, 1\], got 2/);
});
