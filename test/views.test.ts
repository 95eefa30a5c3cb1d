/** Contrastive views (src/augment/views.ts): same-next-item prefixes, the fallback, and what each op pairs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { buildOpContext, createBatchOps, makeViews, SameTargetIndex } from "../src/augment/index.ts";

const train = [
  Int32Array.from([1, 2, 3]), // prefixes: [1]→2, [1,2]→3
  Int32Array.from([4, 3, 5]), // [4]→3, [4,3]→5
  Int32Array.from([6, 7, 3]), // [6]→7, [6,7]→3
  Int32Array.from([8, 9]), //    [8]→9 (the only sequence followed by 9)
];

test("SameTargetIndex: uniform over every other prefix with the same next item, cut to maxLen; none → undefined", () => {
  const index = new SameTargetIndex(train, 9, 1);
  assert.equal(index.count(3), 3);
  assert.equal(index.count(9), 1);
  const rng = new Rng(1);
  const seen = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    // User 2's own last prefix ([6,7]→3) is excluded; maxLen 1 keeps the last item of a prefix.
    const p = index.draw(3, 2, 2, rng)!;
    seen.set(Array.from(p).join(), (seen.get(Array.from(p).join()) ?? 0) + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), ["2", "4"], "user 0's [1,2] and user 1's [4], each cut to 1 item");
  for (const n of seen.values()) assert.ok(n > 240, `roughly uniform: ${[...seen.values()]}`);
  assert.equal(index.draw(9, 3, 1, rng), undefined, "the user's own prefix is the only one");
  assert.deepEqual(Array.from(new SameTargetIndex(train, 9, 50).draw(5, 0, 2, rng)!), [4, 3]);
});

test("makeViews: dropout-view and supervised-positive pair the recommendation pass; sequence ops make two augmented copies", () => {
  const batch: TrainBatch = { users: Int32Array.from([2, 3]), seqs: [train[2]!, train[3]!], numItems: 9 };
  const ctx = { ops: createBatchOps(buildOpContext({ numItems: 9, train })), applyMode: "batch" as const, train, sameTarget: new SameTargetIndex(train, 9, 50) };
  const drop = makeViews(batch, [{ op: "dropout-view", probability: 1, magnitude: 0.5 }], ctx, new Rng(2));
  assert.equal(drop.first, "anchor");
  assert.deepEqual(drop.second.map((s) => Array.from(s)), [[6, 7], [8]]);
  const sup = makeViews(batch, [{ op: "supervised-positive", probability: 1, magnitude: 0.5 }], ctx, new Rng(2));
  assert.equal(sup.first, "anchor");
  assert.ok(["1,2", "4"].includes(Array.from(sup.second[0]!).join()), `user 2 gets another prefix followed by 3: ${sup.second[0]}`);
  assert.deepEqual(Array.from(sup.second[1]!), [8], "user 3: nobody else is followed by 9, so its own inputs stand in");
  const crop = makeViews(batch, [{ op: "mask", probability: 1, magnitude: 1 }], ctx, new Rng(2));
  assert.notEqual(crop.first, "anchor");
  assert.equal((crop.first as Int32Array[]).length, 2);
  assert.throws(() => makeViews(batch, [{ op: "dropout-view", probability: 1, magnitude: 0.5 }, { op: "crop", probability: 1, magnitude: 0.5 }], ctx, new Rng(2)), /`dropout-view` stands alone.*`rl.slots: 1`/);
});
