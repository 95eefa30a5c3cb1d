/**
 * Full-ranking evaluation on a hand-made split, with a fake scorer whose ranking per history is
 * written out below, so every expected rank is counted by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { leaveOneOut } from "../src/data/split.ts";
import type { SeqDataset } from "../src/data/types.ts";
import { evaluate, type NextItemScorer } from "../src/models/evaluate.ts";
import { metricsFromRanks } from "../src/models/metrics.ts";

const V = 8; // items 1..8; column 0 is padding, column 9 the mask token
const dataset: SeqDataset = {
  name: "tiny",
  numItems: V,
  sequences: [
    [1, 2, 3, 4, 5], // u0: train 1 2 3, valid 4, test 5
    [6, 6, 7, 8, 2], // u1: a repeated history item
    [7, 3, 1], // u2: shortest possible user
    [2, 4, 6, 8, 1, 3, 5], // u3
    [1, 2, 1, 3, 1], // u4: the test target is also a history item
  ].map((s) => Int32Array.from(s)),
};
const split = leaveOneOut(dataset);

/**
 * Items from most to least preferred, per history the evaluator must pass. A history that is not
 * listed makes the scorer throw, so passing a wrong history (e.g. the test history for `valid`)
 * fails the test. Hand-counted ranks: items preferred over the target, minus history items.
 */
const preferences: Record<string, { order: number[]; rank: number }> = {
  // valid (history = training items)
  "1,2,3": { order: [3, 7, 1, 4, 2, 8, 5, 6], rank: 1 }, // above 4: 3h 7 1h
  "6,6,7": { order: [6, 1, 7, 8, 2, 3, 4, 5], rank: 1 }, // above 8: 6h (once, though seen twice) 1 7h
  "7": { order: [1, 2, 4, 5, 6, 8, 7, 3], rank: 6 }, // above 3: 1 2 4 5 6 8 7h
  "2,4,6,8,1": { order: [2, 4, 6, 8, 1, 5, 7, 3], rank: 2 }, // above 3: 2h 4h 6h 8h 1h 5 7
  "1,2,1": { order: [1, 5, 3, 2, 4, 6, 7, 8], rank: 1 }, // above 3: 1h 5
  // test (history = training items + the validation target)
  "1,2,3,4": { order: [4, 8, 2, 6, 5, 1, 3, 7], rank: 2 }, // above 5: 4h 8 2h 6
  "6,6,7,8": { order: [3, 4, 5, 2, 1, 6, 7, 8], rank: 3 }, // above 2: 3 4 5
  "7,3": { order: [3, 7, 1, 2, 4, 5, 6, 8], rank: 0 }, // above 1: 3h 7h
  "2,4,6,8,1,3": { order: [7, 5, 1, 2, 3, 4, 6, 8], rank: 1 }, // above 5: 7
  "1,2,1,3": { order: [2, 3, 4, 1, 5, 6, 7, 8], rank: 1 }, // above 1 (the target, kept though in the history): 2h 3h 4
};
const validRanks = [1, 1, 6, 2, 1];
const testRanks = [2, 3, 0, 1, 1];

/** Scores from `preferences`; padding and mask columns score highest of all, so counting them would show. */
class FakeScorer implements NextItemScorer {
  calls: string[][] = [];
  scoreNext(histories: Int32Array[]): Float32Array {
    const width = V + 2;
    const out = new Float32Array(histories.length * width);
    this.calls.push(histories.map((h) => h.join(",")));
    histories.forEach((h, b) => {
      const pref = preferences[h.join(",")];
      if (!pref) throw new Error(`FakeScorer: unexpected history [${h.join(",")}]`);
      pref.order.forEach((item, i) => (out[b * width + item] = 100 - i));
      out[b * width] = 1000;
      out[b * width + V + 1] = 1000;
    });
    return out;
  }
}

test("valid ranks exclude history items (once each), padding and mask columns", () => {
  const scorer = new FakeScorer();
  const r = evaluate(scorer, split, "valid");
  assert.deepEqual([...r.ranks], validRanks);
  assert.deepEqual(scorer.calls.flat().sort(), ["1,2,3", "6,6,7", "7", "2,4,6,8,1", "1,2,1"].sort());
});

test("test histories include the validation item; a target seen in the history is still ranked", () => {
  const scorer = new FakeScorer();
  const r = evaluate(scorer, split, "test");
  assert.deepEqual([...r.ranks], testRanks);
  assert.deepEqual(scorer.calls.flat().sort(), ["1,2,3,4", "6,6,7,8", "7,3", "2,4,6,8,1,3", "1,2,1,3"].sort());
});

test("metrics are the means over the ranks; protocol records dataset, split, full ranking and users", () => {
  const v = evaluate(new FakeScorer(), split, "valid");
  assert.deepEqual(v.metrics, metricsFromRanks(validRanks));
  assert.equal(v.metrics["HR@5"], 4 / 5); // only u2 (rank 6) misses the top 5
  assert.ok(Math.abs(v.metrics["MRR"]! - (1 / 2 + 1 / 2 + 1 / 7 + 1 / 3 + 1 / 2) / 5) < 1e-12);
  assert.deepEqual(v.protocol, { dataset: "tiny", split: "valid", ranking: "full", usersEvaluated: 5 });
  assert.ok(v.seconds >= 0);

  const t = evaluate(new FakeScorer(), split, "test", { metrics: ["HR@1", "NDCG@2"] });
  assert.deepEqual(Object.keys(t.metrics), ["HR@1", "NDCG@2"]);
  assert.equal(t.metrics["HR@1"], 1 / 5);
  assert.deepEqual(t.protocol, { dataset: "tiny", split: "test", ranking: "full", usersEvaluated: 5 });
});

test("users in any order get the same ranks, returned in the caller's order", () => {
  for (const users of [[4, 3, 2, 1, 0], [3, 0, 4], [2], [1, 3]]) {
    const r = evaluate(new FakeScorer(), split, "valid", { users: Int32Array.from(users) });
    assert.deepEqual([...r.ranks], users.map((u) => validRanks[u]), `users ${users}`);
    assert.equal(r.protocol.usersEvaluated, users.length);
    assert.deepEqual(r.metrics, metricsFromRanks(users.map((u) => validRanks[u]!)));
  }
});

test("chunkSize bounds each scoring call and does not change the results", () => {
  const full = evaluate(new FakeScorer(), split, "test");
  for (const chunkSize of [1, 2, 3, 5, 1024]) {
    const scorer = new FakeScorer();
    const r = evaluate(scorer, split, "test", { chunkSize });
    assert.deepEqual([...r.ranks], [...full.ranks], `chunkSize ${chunkSize}`);
    assert.deepEqual(r.metrics, full.metrics);
    assert.equal(scorer.calls.length, Math.ceil(5 / chunkSize));
    assert.ok(scorer.calls.every((c) => c.length <= chunkSize));
  }
});

test(
  "a collapsed model (all scores equal) or a diverged one (NaN scores) does not score perfectly",
  () => {
    const width = V + 2;
    const constant: NextItemScorer = { scoreNext: (h) => new Float32Array(h.length * width) };
    const diverged: NextItemScorer = { scoreNext: (h) => new Float32Array(h.length * width).fill(Number.NaN) };
    for (const [name, scorer] of [["constant", constant], ["NaN", diverged]] as const) {
      const r = evaluate(scorer, split, "valid");
      assert.ok(r.metrics["NDCG@10"]! < 1, `${name} scorer: NDCG@10 ${r.metrics["NDCG@10"]}, ranks ${[...r.ranks]}`);
    }
  },
);
