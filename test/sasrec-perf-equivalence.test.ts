import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { addBroadcast, batchMatmul, dropout, embeddingLookup, embeddingLookupHost, layerNorm, logSumExpRows, logSumExpScores } from "../src/tf/ops.ts";
import { selectBackend } from "../src/tf/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { createEncoderParams, encode, encodeMixed, type EncodeContext } from "../src/models/layers.ts";

// The fast paths (depthwise batched matmul) exist on wasm only; the reference is plain tf autodiff.
before(async () => {
  await selectBackend("wasm", null);
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Value and gradients (w.r.t. every input, for a fixed random cotangent) of f and of ref agree. */
function assertSameFunction(f: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], tol = 1e-4) {
  tf.tidy(() => {
    const y = ref(...inputs);
    const cot = tf.randomNormal(y.shape, 0, 1, "float32", 11);
    const loss = (g: (...xs: tf.Tensor[]) => tf.Tensor) => (...xs: tf.Tensor[]) => tf.sum(tf.mul(g(...xs), cot));
    assert.ok(maxAbsDiff(f(...inputs), y) < tol, "values differ");
    const ga = tf.grads(loss(f))(inputs);
    const gb = tf.grads(loss(ref))(inputs);
    ga.forEach((g, i) => assert.ok(maxAbsDiff(g, gb[i]!) < tol, `gradient ${i} differs by ${maxAbsDiff(g, gb[i]!)}`));
  });
}

test("batchMatmul equals tf.matMul in value and gradients, on both the scalar and the depthwise route", () => {
  for (const L of [3, 20]) {
    const q = tf.randomNormal([8, L, 16], 0, 1, "float32", 1);
    const k = tf.randomNormal([8, L, 16], 0, 1, "float32", 2);
    const p = tf.randomNormal([8, L, L], 0, 1, "float32", 3);
    assertSameFunction((a, b) => batchMatmul(a as tf.Tensor3D, b as tf.Tensor3D, true), (a, b) => tf.matMul(a!, b!, false, true), [q, k]);
    assertSameFunction((a, b) => batchMatmul(a as tf.Tensor3D, b as tf.Tensor3D), (a, b) => tf.matMul(a!, b!), [p, k]);
    tf.dispose([q, k, p]);
  }
});

test("layerNorm and addBroadcast equal their autodiff formulas", () => {
  const x = tf.randomNormal([4, 5, 8], 0, 2, "float32", 4);
  const g = tf.randomNormal([8], 1, 0.1, "float32", 5);
  const b = tf.randomNormal([8], 0, 0.1, "float32", 6);
  const pos = tf.randomNormal([5, 8], 0, 1, "float32", 7);
  const refLn = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
    const { mean, variance } = tf.moments(xi, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(xi, mean), tf.rsqrt(tf.add(variance, 1e-12))), gi), bi);
  };
  assertSameFunction((xi, gi, bi) => layerNorm(xi!, gi as tf.Tensor1D, bi as tf.Tensor1D), (xi, gi, bi) => refLn(xi!, gi!, bi!), [x, g, b]);
  assertSameFunction((xi, pi) => addBroadcast(xi!, pi!), (xi, pi) => tf.add(xi!, pi!), [x, pos]);
  tf.dispose([x, g, b, pos]);
});

test("embeddingLookupHost equals the device lookup in value and gradient", () => {
  const table = tf.randomNormal([10, 4], 0, 1, "float32", 8);
  const ids = Int32Array.from([3, 0, 3, 9, 1, 3]);
  const host = table.dataSync() as Float32Array;
  assertSameFunction((t) => embeddingLookupHost(t as tf.Tensor2D, host, ids, [2, 3]), (t) => embeddingLookup(t as tf.Tensor2D, tf.tensor2d(ids, [2, 3], "int32")), [table]);
  table.dispose();
});

test("dropout draws exactly tf.dropout's mask for the same seed (values and gradient)", () => {
  tf.tidy(() => {
    const x = tf.randomNormal([7, 13, 64], 0, 1, "float32", 5);
    for (const [rate, seed] of [[0.5, 12345], [0.2, 7], [0.5, 2 ** 31 - 3]] as const) {
      assert.deepEqual(dropout(x, rate, seed).dataSync(), tf.dropout(x, rate, undefined, seed).dataSync());
      const g = tf.grad((t: tf.Tensor) => tf.sum(dropout(t, rate, seed)))(x);
      const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.dropout(t, rate, undefined, seed)))(x);
      assert.deepEqual(g.dataSync(), gRef.dataSync());
    }
    assert.equal(dropout(x, 0, 1), x);
  });
});

test("logSumExpRows equals tf.logSumExp over rows in value and gradient (also with -1e9 masked entries)", () => {
  const x = tf.randomNormal([37, 53], 0, 3, "float32", 12);
  const masked = tf.add(x, tf.mul(tf.cast(tf.greater(tf.randomUniform([37, 53], 0, 1, "float32", 13), 0.7), "float32"), -1e9));
  for (const input of [x, masked]) assertSameFunction((v) => logSumExpRows(v as tf.Tensor2D), (v) => tf.logSumExp(v, -1), [input], 1e-5);
});

test("encodeMixed: full rows equal encode's every position, the other rows encode's last position (no dropout)", () => {
  const c = { hiddenSize: 8, numBlocks: 2, numHeads: 2, innerSize: 16, activation: "gelu" as const, maxLen: 6, initStd: 0.3 };
  const vars: tf.Variable[] = [];
  const p = createEncoderParams(c, 12, new Rng(4), (_name, init) => {
    const v = tf.variable(init);
    init.dispose();
    vars.push(v);
    return v;
  });
  const table = p.itemEmb.arraySync() as number[][];
  const ctx: EncodeContext = { items: (ids, shape) => tf.tensor(Array.from(ids, (i) => table[i]!).flat(), [...shape, 8]), dropout: (x) => x };
  const L = 5;
  // 3 full rows, then 4 last-only rows, left-padded with 0.
  const rows = [[0, 0, 3, 4, 5], [1, 2, 3, 4, 5], [0, 0, 0, 0, 7], [0, 9, 8, 7, 6], [0, 0, 1, 1, 1], [10, 2, 3, 3, 2], [0, 0, 0, 4, 11]];
  const ids = Int32Array.from(rows.flat());
  tf.tidy(() => {
    const { full, last } = encodeMixed(p, c, ctx, ids, 7, L, 3);
    const refFull = encode(p, c, ctx, ids.subarray(0, 3 * L), 3, L);
    const refLast = encode(p, c, ctx, ids.subarray(3 * L), 4, L, true).reshape([4, 8]);
    assert.ok(maxAbsDiff(full, refFull) < 1e-5, `full rows differ by ${maxAbsDiff(full, refFull)}`);
    assert.ok(maxAbsDiff(last, refLast) < 1e-5, `last rows differ by ${maxAbsDiff(last, refLast)}`);
  });
  for (const v of vars) v.dispose();
});

test("logSumExpScores equals logSumExpRows of the full score matrix in value and both gradients (rows in uneven chunks)", () => {
  const h = tf.randomNormal([23, 6], 0, 1, "float32", 14);
  const t = tf.randomNormal([41, 6], 0, 1, "float32", 15);
  assertSameFunction((a, b) => logSumExpScores(a as tf.Tensor2D, b as tf.Tensor2D, 5), (a, b) => logSumExpRows(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true)), [h, t], 1e-5);
});
