import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.ts";
import { trainBatches, eligibleUsers } from "../src/data/batches.ts";
import { loadSequences } from "../src/data/sequences.ts";
import { leaveOneOut } from "../src/data/split.ts";
import type { SeqDataset } from "../src/data/types.ts";

test("leave-one-out on a hand-made file: last = test, second-last = valid, short users excluded and counted", () => {
  const split = leaveOneOut(loadSequences("test/fixtures/data/split.txt"));
  // users 11 (2 items) and 14 (1 item) have < 3 items
  assert.equal(split.excludedUsers, 2);
  assert.deepEqual(split.dataset.userIds, ["10", "12", "13"]);
  assert.deepEqual(split.train.map((s) => Array.from(s)), [[1, 2, 3], [4], [5, 4, 3, 2]]);
  assert.deepEqual(Array.from(split.validTarget), [4, 1, 1]);
  assert.deepEqual(Array.from(split.testTarget), [5, 6, 6]);
  assert.equal(split.dataset.numItems, 6);
});

test("leave-one-out keeps timestamps aligned with the kept users", () => {
  const ds: SeqDataset = {
    name: "t",
    numItems: 3,
    sequences: [Int32Array.of(1, 2), Int32Array.of(1, 2, 3)],
    timestamps: [Float64Array.of(1, 2), Float64Array.of(7, 8, 9)],
  };
  const split = leaveOneOut(ds);
  assert.deepEqual(Array.from(split.dataset.timestamps![0]!), [7, 8, 9]);
});

test("leave-one-out with no eligible user explains why", () => {
  const ds: SeqDataset = { name: "t", numItems: 2, sequences: [Int32Array.of(1, 2)] };
  assert.throws(() => leaveOneOut(ds), /no user with >= 3 items/);
});

function syntheticSplit(users: number) {
  const r = new Rng(7).child("synthetic");
  const sequences: Int32Array[] = [];
  for (let u = 0; u < users; u++) {
    const len = 3 + r.int(80);
    const s = new Int32Array(len);
    for (let i = 0; i < len; i++) s[i] = 1 + r.int(100);
    sequences.push(s);
  }
  return leaveOneOut({ name: "syn", numItems: 100, sequences });
}

test("batches cover every eligible user exactly once per epoch, truncated to maxLen + 1", () => {
  const split = syntheticSplit(1000);
  const rng = new Rng(1).child("data");
  const eligible = eligibleUsers(split);
  assert.ok(eligible.length < 1000, "fixture should contain users with a 1-item training sequence");
  for (let epoch = 0; epoch < 2; epoch++) {
    const batches = trainBatches(split, { batchSize: 64, maxLen: 20, rng });
    const seen = batches.flatMap((b) => Array.from(b.users));
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from(eligible));
    assert.ok(batches.slice(0, -1).every((b) => b.users.length === 64));
    for (const b of batches) {
      assert.equal(b.numItems, 100);
      b.seqs.forEach((s, i) => {
        const train = split.train[b.users[i]!]!;
        assert.ok(s.length >= 2 && s.length <= 21);
        assert.deepEqual(Array.from(s), Array.from(train.slice(-21)));
      });
    }
  }
});

test("batches are deterministic per seed and differ across seeds and epochs", () => {
  const split = syntheticSplit(300);
  const order = (seed: number, epochs: number) => {
    const rng = new Rng(seed).child("data");
    let users: number[] = [];
    for (let e = 0; e < epochs; e++) users = trainBatches(split, { batchSize: 32, maxLen: 10, rng }).flatMap((b) => Array.from(b.users));
    return users;
  };
  assert.deepEqual(order(5, 1), order(5, 1));
  assert.notDeepEqual(order(5, 1), order(6, 1));
  assert.notDeepEqual(order(5, 1), order(5, 2));
});

test("batches carry times aligned with seqs when the dataset has timestamps", () => {
  const ds: SeqDataset = {
    name: "t",
    numItems: 5,
    sequences: [Int32Array.of(1, 2, 3, 4, 5)],
    timestamps: [Float64Array.of(10, 20, 30, 40, 50)],
  };
  const [b] = trainBatches(leaveOneOut(ds), { batchSize: 8, maxLen: 1, rng: new Rng(0) });
  assert.deepEqual(Array.from(b!.seqs[0]!), [2, 3]);
  assert.deepEqual(Array.from(b!.times![0]!), [20, 30]);
  const [c] = trainBatches(leaveOneOut(ds), { batchSize: 8, maxLen: 1, rng: new Rng(0), withTimes: false });
  assert.equal(c!.times, undefined);
});

test("bad batch options name the parameter", () => {
  const split = syntheticSplit(10);
  assert.throws(() => trainBatches(split, { batchSize: 0, maxLen: 5, rng: new Rng(0) }), /`batchSize` must be a positive integer, got 0/);
  assert.throws(() => trainBatches(split, { batchSize: 4, maxLen: 2.5, rng: new Rng(0) }), /`maxLen`/);
});
