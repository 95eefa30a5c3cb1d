/**
 * The sampled losses (sampled softmax, gBCE) against their definitions: sampled softmax over
 * every column is the full softmax, accidental hits are masked, gBCE with t = 0 is BCE with N
 * negatives and β follows gSASRec's formula; and both train SASRec on a tiny cycle.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { gbceBeta, recommendationLoss, type LossContext, type LossKind } from "../src/models/losses.ts";
import type { TrainArrays } from "../src/models/negatives.ts";
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
    items: (ids, shape) => tf.tensor(Array.from(ids, (i) => rows[i]!), [...shape, d]),
    ...extra,
  });
  const loss = (kind: LossKind, arrays: TrainArrays, extra: Partial<LossContext> = {}, eps = 0) =>
    tf.tidy(() => recommendationLoss(hidden, arrays, ctx(kind, extra), eps).dataSync()[0]!);
  return { a, loss, dispose: () => { table.dispose(); hidden.dispose(); } };
}

test("sampled softmax over every column of the table is the full softmax (the target's own column masked as a hit)", () => {
  const f = fixture();
  const all = Int32Array.from({ length: V + 2 }, (_, i) => i);
  for (const eps of [0, 0.1]) {
    const ce = f.loss("ce", f.a, {}, eps);
    const sampled = f.loss("sampled-softmax", { ...f.a, sampled: all }, {}, eps);
    assert.ok(Math.abs(ce - sampled) < 1e-5 * Math.abs(ce), `ε=${eps}: ce ${ce} vs sampled ${sampled}`);
  }
  f.dispose();
});

test("a negative equal to a position's target is masked for that position only", () => {
  const f = fixture();
  const negs = Int32Array.from([1, 7, 9]);
  const withFive = Int32Array.from([...negs, 5]); // 5 is the target of row 0, position 1 only
  const at = (kind: LossKind, sampled: Int32Array, w: number[]) => f.loss(kind, { ...f.a, sampled, weights: Float32Array.from(w) });
  const hitPosition = [0, 1, 0, 0, 0, 0];
  const otherPositions = [0, 0, 1, 1, 1, 1];
  // Sampled softmax: the hit position scores as if 5 had not been drawn...
  const a = at("sampled-softmax", withFive, hitPosition);
  const b = at("sampled-softmax", negs, hitPosition);
  assert.ok(Math.abs(a - b) < 1e-6, `sampled softmax: hit position ${a} vs without the hit ${b}`);
  // ...gBCE likewise, except that it still divides by the configured N + 1 (4 negatives + 1).
  const g = at("gbce", withFive, hitPosition);
  const g3 = at("gbce", negs, hitPosition);
  assert.ok(Math.abs(g - (g3 * 4) / 5) < 1e-6, `gbce: hit position ${g} vs ${(g3 * 4) / 5}`);
  // For every other position 5 is a true negative and changes the loss.
  for (const kind of ["sampled-softmax", "gbce"] as const) assert.ok(at(kind, withFive, otherPositions) > at(kind, negs, otherPositions) * (kind === "gbce" ? 0.8 : 1));
  f.dispose();
});

test("gBCE: β from gSASRec's formula; t = 0 is BCE with N negatives averaged over N+1 terms", () => {
  assert.equal(gbceBeta(10, 101, 0), 1);
  assert.ok(Math.abs(gbceBeta(10, 101, 1) - 0.1) < 1e-12, "t = 1 gives β = α = N/(|I|-1)");
  assert.ok(Math.abs(gbceBeta(256, 12101, 0.75) - 0.2659) < 1e-3, `Beauty default β ${gbceBeta(256, 12101, 0.75)}`);
  const f = fixture();
  const negs = Int32Array.from([1, 7, 9, 11]);
  const sp = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
  const got = f.loss("gbce", { ...f.a, sampled: negs }, { gbceBeta: 1 });
  // By hand: hidden·item dot products.
  const h = tf.randomNormal([6, d], 0, 1, "float32", 6).arraySync() as number[][];
  const t = tf.randomNormal([V + 2, d], 0, 1, "float32", 5).arraySync() as number[][];
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
  let sum = 0;
  let n = 0;
  for (let p = 0; p < 6; p++) {
    if (!f.a.weights[p]) continue;
    const target = f.a.targets[p]!;
    let term = sp(-dot(h[p]!, t[target]!));
    for (const j of negs) if (j !== target) term += sp(dot(h[p]!, t[j]!));
    sum += term / (negs.length + 1);
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
