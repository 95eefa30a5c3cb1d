// Sharded training steps: helper threads must give exactly the single-thread weights, the
// shards must add up to the whole batch's gradient, and failures must be loud.
import { strict as assert } from "node:assert";
import { after, before, it } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { loadEnvSpec, loadSpecData } from "../src/env/spec.ts";
import { normaliseLossPerEpoch } from "../src/data/batches.ts";
import { bucketedTrainBatches } from "../src/data/bucketing.ts";
import { createTrainPool, TrainPool } from "../src/models/train-pool.ts";
import { CONTRASTIVE_DEFAULTS, SASRec, type ContrastiveViews, type SASRecConfig, type ShardRunner } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";
import type { LeaveOneOutSplit, TrainBatch } from "../src/data/types.ts";

let pool: TrainPool;
let split: LeaveOneOutSplit;
let batches: TrainBatch[];
const small: Partial<SASRecConfig> = { hiddenSize: 16, innerSize: 32, numHeads: 2, maxLen: 20 };

before(async () => {
  await selectBackend("wasm", null);
  const spec = loadEnvSpec("envs/beauty-1k-sasrec.json");
  split = loadSpecData(spec).split;
  batches = bucketedTrainBatches(split, { batchSize: 64, maxLen: 20, rng: new Rng(5).child("batches"), withTimes: false }).slice(0, 4);
  pool = new TrainPool({ threads: 2, backend: "wasm" });
});

after(async () => {
  await pool.close();
});

function train(config: Partial<SASRecConfig>, threads: ShardRunner | undefined, steps: TrainBatch[]): { weights: ReturnType<SASRec["getWeights"]>; losses: number[] } {
  const model = new SASRec({ ...small, ...config }, split.dataset.numItems, new Rng(11).child("model"), { shardRunner: threads });
  try {
    const losses = steps.map((b) => model.trainStep(b));
    return { weights: model.getWeights(), losses };
  } finally {
    model.dispose();
  }
}

function maxAbsDiff(a: ReturnType<SASRec["getWeights"]>, b: ReturnType<SASRec["getWeights"]>): number {
  let d = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k]!.data.length; i++) d = Math.max(d, Math.abs(a[k]!.data[i]! - b[k]!.data[i]!));
  return d;
}

it("two threads give bit-identical weights and losses to one (2 and 3 shards)", () => {
  for (const gradientShards of [2, 3]) {
    const one = train({ gradientShards }, undefined, batches);
    const before = pool.helperShards;
    const two = train({ gradientShards }, pool, batches);
    assert.ok(pool.helperShards - before >= batches.length, "the helper computed shards");
    assert.deepEqual(two.losses, one.losses);
    for (const k of Object.keys(one.weights)) assert.deepEqual(two.weights[k]!.data, one.weights[k]!.data, `${gradientShards} shards, ${k}`);
  }
});

it("without dropout the shards add up to the whole batch's step (float rounding only), for every loss", () => {
  // Sampled losses draw one set of shared negatives per batch, also when it is sharded.
  const cases = [["batch", "bce"], ["epoch", "bce"], ["epoch", "sampled-softmax"], ["epoch", "gbce"]] as const;
  for (const [norm, loss] of cases) {
    const steps = batches.map((b) => ({ ...b }));
    if (norm === "epoch") normaliseLossPerEpoch(steps);
    const config = { dropout: 0, loss, negatives: 64 };
    const whole = train(config, undefined, steps);
    const sharded = train({ ...config, gradientShards: 2 }, pool, steps);
    whole.losses.forEach((l, i) => assert.ok(Math.abs(l - sharded.losses[i]!) < 1e-5 * Math.abs(l), `${norm}/${loss}: loss ${l} vs ${sharded.losses[i]}`));
    // Measured ~3e-7 after 4 steps; each step moves weights by up to lr = 1e-3.
    const d = maxAbsDiff(whole.weights, sharded.weights);
    assert.ok(d < 1e-5, `${norm}/${loss}: max weight difference ${d}`);
    const moved = maxAbsDiff(whole.weights, train(config, undefined, []).weights);
    assert.ok(moved > 2e-3, `${loss}: training moved the weights (${moved})`);
  }
});

it("shards draw their own dropout: a sharded run differs from an unsharded one", () => {
  const one = train({}, undefined, batches.slice(0, 1));
  const two = train({ gradientShards: 2 }, undefined, batches.slice(0, 1));
  assert.ok(maxAbsDiff(one.weights, two.weights) > 0);
});

it("more shards than rows is fine, and a 1-row batch takes the unsharded path", () => {
  const tiny: TrainBatch = { ...batches[0]!, users: batches[0]!.users.subarray(0, 3), seqs: batches[0]!.seqs.slice(0, 3) };
  const four = train({ gradientShards: 4 }, pool, [tiny]);
  const three = train({ gradientShards: 3 }, pool, [tiny]);
  assert.deepEqual(four.losses, three.losses);
  const single: TrainBatch = { ...tiny, users: tiny.users.subarray(0, 1), seqs: tiny.seqs.slice(0, 1) };
  assert.deepEqual(train({ gradientShards: 2 }, pool, [single]).losses, train({}, undefined, [single]).losses);
});

it("rejects a non-integer shard count", () => {
  assert.throws(() => new SASRec({ ...small, gradientShards: 1.5 }, 10, new Rng(1)), /gradientShards.*integer >= 1, got 1.5/);
});

it("createTrainPool: threads decide where shards run, never the weights; close() stops the helpers", async () => {
  const one = createTrainPool(1, "wasm");
  const two = createTrainPool(2, "wasm");
  try {
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    assert.equal(createTrainPool(4, "node").threads, 1, "tfjs-node already uses every core");
    const a = train({ gradientShards: 2 }, undefined, batches.slice(0, 2));
    const b = train({ gradientShards: 2 }, two, batches.slice(0, 2));
    assert.deepEqual(b.losses, a.losses);
    for (const k of Object.keys(a.weights)) assert.deepEqual(b.weights[k]!.data, a.weights[k]!.data, k);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

it("contrastive steps (gradient caching) give bit-identical weights and losses on one thread and on two (2 and 3 shards)", () => {
  const inputs = (s: Int32Array) => (s.length > 1 ? s.subarray(0, s.length - 1) : s);
  const viewsOf = (b: TrainBatch): ContrastiveViews[] => [
    { first: "anchor", second: b.seqs.map(inputs) },
    { first: b.seqs.map((s) => inputs(s.length > 2 ? s.subarray(1) : s)), second: b.seqs.map(inputs) },
  ];
  for (const gradientShards of [2, 3]) {
    const run = (threads: ShardRunner | undefined) => {
      const model = new SASRec({ ...small, gradientShards, loss: "gbce", negatives: 32 }, split.dataset.numItems, new Rng(12).child("model"), { shardRunner: threads });
      try {
        const losses = batches.slice(0, 2).flatMap((b) => viewsOf(b).map((v) => model.trainStepContrastive(b, v, { ...CONTRASTIVE_DEFAULTS, similarity: "dot" })));
        return { weights: model.getWeights(), losses };
      } finally {
        model.dispose();
      }
    };
    const one = run(undefined);
    const before = pool.helperShards;
    const two = run(pool);
    assert.ok(pool.helperShards - before >= 4, "the helper computed shards");
    assert.deepEqual(two.losses, one.losses);
    for (const k of Object.keys(one.weights)) assert.deepEqual(two.weights[k]!.data, one.weights[k]!.data, `${gradientShards} shards, ${k}`);
  }
});
