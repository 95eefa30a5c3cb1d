/**
 * Property tests for every batch op: identity at 0, same rng → same output, valid output over
 * many random batches and magnitudes (input never mutated), and change growing with magnitude.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { batchOpInfos, createBatchOps } from "../src/augment/registry.ts";
import { validateBatch } from "../src/augment/batch.ts";
import { changeOf } from "../src/augment/measure.ts";
import { deepCopy, randomBatch, syntheticContext } from "./augment-fixtures.ts";

const ctx = syntheticContext();
const ops = createBatchOps(ctx);
const limits = { numAttributes: ctx.numAttributes!, titleVocabSize: ctx.titleVocab!.size };

for (const op of ops.values()) {
  test(`${op.name}: magnitude 0 returns the same batch and draws nothing`, () => {
    const rng = new Rng(1, "data");
    for (let k = 0; k < 20; k++) {
      const batch = randomBatch(rng, ctx);
      const opRng = new Rng(2, "op");
      const before = JSON.stringify(opRng.state());
      assert.equal(op.apply(batch, 0, opRng), batch);
      assert.equal(JSON.stringify(opRng.state()), before);
    }
  });

  test(`${op.name}: same rng state gives the same output`, () => {
    const rng = new Rng(3, "data");
    for (let k = 0; k < 20; k++) {
      const batch = randomBatch(rng, ctx);
      const m = 0.1 + 0.9 * rng.random();
      const a = op.apply(batch, m, new Rng(k, "op"));
      const b = op.apply(batch, m, new Rng(k, "op"));
      assert.deepEqual(a, b);
    }
  });

  test(`${op.name}: output is valid and the input is not mutated (300 random batches)`, () => {
    const rng = new Rng(4, "data");
    for (let k = 0; k < 300; k++) {
      const batch = randomBatch(rng, ctx);
      const copy = deepCopy(batch);
      const m = k % 10 === 0 ? 1 : rng.random();
      const out = op.apply(batch, m, rng);
      assert.deepEqual(batch, copy, `${op.name} mutated its input`);
      const problems = validateBatch(out, limits);
      assert.deepEqual(problems, [], `${op.name} at m=${m.toFixed(3)} gave an invalid batch`);
      assert.equal(out.seqs.length, batch.seqs.length);
      assert.deepEqual(out.users, batch.users);
    }
  });

  test(`${op.name}: change grows with magnitude on average`, () => {
    const mags = [0.1, 0.3, 0.6, 1];
    const rng = new Rng(5, "data");
    const batches = Array.from({ length: 150 }, () => randomBatch(rng, ctx, false));
    const mean = mags.map((m) => {
      const opRng = new Rng(6, `op-${m}`);
      let s = 0;
      for (const b of batches) s += changeOf(op.family, b, op.apply(b, m, opRng), ctx);
      return s / batches.length;
    });
    for (let i = 1; i < mags.length; i++) {
      assert.ok(mean[i]! >= mean[i - 1]! - 0.01, `${op.name}: change at m=${mags[i]} (${mean[i]}) < at m=${mags[i - 1]} (${mean[i - 1]})`);
    }
    assert.ok(mean[3]! > mean[0]! + 0.05, `${op.name}: change at m=1 (${mean[3]}) not clearly above m=0.1 (${mean[0]})`);
  });
}

test("every registered batch op has a property test (registry and factory agree)", () => {
  assert.deepEqual([...ops.keys()], batchOpInfos.map((o) => o.name));
});

test("magnitude outside [0, 1] throws naming the op and the parameter", () => {
  const batch = randomBatch(new Rng(1), ctx, false);
  for (const m of [-0.1, 1.5, Number.NaN]) {
    assert.throws(() => ops.get("crop")!.apply(batch, m, new Rng(1)), /op `crop`: `magnitude` must be in \[0, 1\]/);
  }
});

// --- op-specific invariants -------------------------------------------------------------------

const labels = (b: TrainBatch, i: number): number[] => Array.from(b.targets?.[i] ?? b.seqs[i]!.subarray(1));
const weightsOf = (b: TrainBatch, i: number): number[] => Array.from(b.weights?.[i] ?? new Float32Array(b.seqs[i]!.length - 1).fill(1));
const positiveTargets = (b: TrainBatch, i: number): number[] => labels(b, i).filter((_, k) => weightsOf(b, i)[k]! > 0);
const isSubsequence = (small: ArrayLike<number>, big: ArrayLike<number>): boolean => {
  let j = 0;
  for (let i = 0; i < big.length && j < small.length; i++) if (big[i] === small[j]) j++;
  return j === small.length;
};

/** Run `opName` on `n` random batches; `prior: false` for checks that need mask-free inputs. */
function forRandom(seed: number, n: number, fn: (batch: TrainBatch, out: TrainBatch, m: number) => void, opName: string, prior = true): void {
  const rng = new Rng(seed, "inv");
  for (let k = 0; k < n; k++) {
    const batch = randomBatch(rng, ctx, prior);
    const m = 0.05 + 0.95 * rng.random();
    fn(batch, ops.get(opName)!.apply(batch, m, rng), m);
  }
}

test("mask and substitute change inputs only: targets and weights stay as they were", () => {
  for (const name of ["mask", "substitute"]) {
    forRandom(10, 100, (batch, out) => {
      for (let b = 0; b < batch.seqs.length; b++) {
        assert.deepEqual(labels(out, b), labels(batch, b));
        assert.deepEqual(weightsOf(out, b), weightsOf(batch, b));
        assert.equal(out.seqs[b]!.at(-1), batch.seqs[b]!.at(-1));
      }
    }, name);
  }
});

test("substitute picks only correlated items", () => {
  forRandom(11, 100, (batch, out) => {
    for (let b = 0; b < batch.seqs.length; b++) {
      batch.seqs[b]!.forEach((it, i) => {
        const now = out.seqs[b]![i]!;
        if (now !== it) assert.ok(ctx.neighbours[it]!.includes(now), `${now} is not a neighbour of ${it}`);
      });
    }
  }, "substitute");
});

test("insert and noise-insert keep every weighted target, in order, and only add items", () => {
  for (const name of ["insert", "noise-insert"]) {
    forRandom(12, 100, (batch, out, m) => {
      for (let b = 0; b < batch.seqs.length; b++) {
        assert.deepEqual(positiveTargets(out, b), positiveTargets(batch, b));
        assert.ok(isSubsequence(batch.seqs[b]!, out.seqs[b]!));
        assert.ok(out.seqs[b]!.length <= batch.seqs[b]!.length + Math.round(m * (batch.seqs[b]!.length - 1)));
      }
    }, name);
  }
});

test("crop keeps a contiguous window, slide a prefix, item-dropout a subsequence; all >= 2 items", () => {
  forRandom(13, 100, (batch, out) => {
    batch.seqs.forEach((s, b) => {
      const o = out.seqs[b]!;
      const at = s.findIndex((_, i) => o.every((x, k) => s[i + k] === x));
      assert.ok(at >= 0, "crop output is not a window of the input");
    });
  }, "crop", false);
  forRandom(14, 100, (batch, out) => {
    batch.seqs.forEach((s, b) => assert.deepEqual(Array.from(out.seqs[b]!), Array.from(s.subarray(0, out.seqs[b]!.length))));
  }, "slide", false);
  forRandom(15, 100, (batch, out) => {
    batch.seqs.forEach((s, b) => assert.ok(isSubsequence(out.seqs[b]!, s)));
  }, "item-dropout", false);
  const long = { users: Int32Array.of(0), seqs: [Int32Array.from({ length: 20 }, (_, i) => 1 + i)], numItems: ctx.numItems };
  for (const name of ["crop", "item-dropout"]) assert.equal(ops.get(name)!.apply(long, 1, new Rng(1)).seqs[0]!.length, 2);
  const slid = Array.from({ length: 50 }, (_, k) => ops.get("slide")!.apply(long, 1, new Rng(k)).seqs[0]!.length);
  assert.equal(Math.min(...slid), 2, "slide at m=1 should reach the shortest window");
  assert.ok(Math.max(...slid) <= 19);
});

test("a masked input never ends up as the last item: it gets its true item back", () => {
  const mask = ctx.numItems + 1;
  const batch: TrainBatch = { users: Int32Array.of(0), seqs: [Int32Array.of(5, mask, 7)], targets: [Int32Array.of(9, 7)], numItems: ctx.numItems };
  const out = ops.get("slide")!.apply(batch, 1, new Rng(1));
  assert.deepEqual(Array.from(out.seqs[0]!), [5, 9]);
  assert.deepEqual(Array.from(out.targets?.[0] ?? out.seqs[0]!.subarray(1)), [9]);
});

test("reorder permutes items and keeps times sorted", () => {
  forRandom(16, 100, (batch, out) => {
    batch.seqs.forEach((s, b) => {
      assert.deepEqual(Array.from(out.seqs[b]!).sort(), Array.from(s).sort());
      assert.deepEqual(Array.from(out.times![b]!), Array.from(batch.times![b]!));
    });
  }, "reorder", false);
});

test("masking keeps context features of unmasked items and clears those of masked ones", () => {
  forRandom(17, 50, (batch, out) => {
    const mask = ctx.numItems + 1;
    out.seqs.forEach((s, b) => s.forEach((it, i) => {
      if (it === mask && batch.seqs[b]![i] !== mask) assert.equal(out.attributes![b]![i]!.length, 0);
      if (it !== mask) assert.deepEqual(out.attributes![b]![i], batch.attributes![b]![i]);
    }));
  }, "mask");
});

test("label ops leave sequences and context alone", () => {
  for (const name of ["label-smoothing", "target-jitter", "rank-truncate", "negative-hardness"]) {
    forRandom(18, 50, (batch, out) => {
      assert.equal(out.seqs, batch.seqs);
      assert.equal(out.attributes, batch.attributes);
      assert.equal(out.times, batch.times);
    }, name);
  }
});

test("label-smoothing sets epsilon = m * maxLabelSmoothing", () => {
  const batch = randomBatch(new Rng(1), ctx, false);
  assert.equal(ops.get("label-smoothing")!.apply(batch, 1, new Rng(1)).labelSmoothing, ctx.maxLabelSmoothing);
  assert.equal(ops.get("label-smoothing")!.apply(batch, 0.5, new Rng(1)).labelSmoothing, 0.5 * ctx.maxLabelSmoothing);
});

test("target-jitter replaces targets only with neighbours of the old target", () => {
  forRandom(19, 100, (batch, out) => {
    for (let b = 0; b < batch.seqs.length; b++) {
      const old = labels(batch, b);
      labels(out, b).forEach((t, i) => { if (t !== old[i]) assert.ok(ctx.neighbours[old[i]!]!.includes(t)); });
    }
  }, "target-jitter");
});

test("rank-truncate at 1 leaves exactly the newest position weighted", () => {
  const rng = new Rng(20);
  for (let k = 0; k < 50; k++) {
    const batch = randomBatch(rng, ctx, false);
    const out = ops.get("rank-truncate")!.apply(batch, 1, rng);
    out.weights!.forEach((w) => {
      assert.equal(w.at(-1), 1);
      assert.ok(w.subarray(0, -1).every((x) => x === 0));
    });
  }
});

test("negative-hardness at 1 gives every position a correlated or popularity-drawn negative", () => {
  const rng = new Rng(21);
  const batch = randomBatch(rng, ctx, false);
  const out = ops.get("negative-hardness")!.apply(batch, 1, rng);
  out.negatives!.forEach((neg, b) => neg.forEach((n, i) => {
    const t = labels(out, b)[i]!;
    assert.notEqual(n, t);
    if (ctx.neighbours[t]!.length > 0) assert.ok(ctx.neighbours[t]!.includes(n));
  }));
});

test("context ops leave items and labels alone; masks use the mask tokens", () => {
  const aMask = ctx.numAttributes! + 1;
  const tMask = ctx.titleVocab!.size + 1;
  for (const name of ["attribute-dropout", "attribute-mask", "title-token-dropout", "title-token-mask", "time-jitter"]) {
    forRandom(22, 50, (batch, out) => {
      assert.equal(out.seqs, batch.seqs);
      assert.equal(out.targets, batch.targets);
      if (name === "attribute-mask") {
        out.attributes!.forEach((rows, b) => rows.forEach((r, i) => r.forEach((id, k) => assert.ok(id === aMask || id === batch.attributes![b]![i]![k]))));
      }
      if (name === "title-token-mask") {
        out.titleTokens!.forEach((rows, b) => rows.forEach((r, i) => r.forEach((id, k) => assert.ok(id === tMask || id === batch.titleTokens![b]![i]![k]))));
      }
      // The last item is a target, never a feature: its context must not change.
      out.seqs.forEach((s, b) => {
        assert.deepEqual(out.attributes![b]!.at(-1), batch.attributes![b]!.at(-1));
        assert.deepEqual(out.titleTokens![b]!.at(-1), batch.titleTokens![b]!.at(-1));
      });
    }, name);
  }
});

test("context ops without their field return the batch unchanged", () => {
  const bare: TrainBatch = { users: Int32Array.of(0), seqs: [Int32Array.of(1, 2, 3)], numItems: ctx.numItems };
  for (const name of ["attribute-dropout", "attribute-mask", "title-token-dropout", "title-token-mask", "time-jitter"]) {
    assert.equal(ops.get(name)!.apply(bare, 1, new Rng(1)), bare);
  }
});
