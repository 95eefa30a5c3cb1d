// Evaluation on helper threads must give exactly the single-thread ranks, and fail loudly.
import { strict as assert } from "node:assert";
import { after, before, it } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { loadEnvSpec, loadSpecData } from "../src/env/spec.ts";
import { createEvalPool, EvalPool } from "../src/models/eval-pool.ts";
import { evaluate, type NextItemScorer } from "../src/models/evaluate.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { selectBackend } from "../src/tf/backend.ts";
import type { LeaveOneOutSplit } from "../src/data/types.ts";

let pool: EvalPool;
let split: LeaveOneOutSplit;
let model: SASRec;

before(async () => {
  await selectBackend("wasm", null);
  const spec = loadEnvSpec("envs/beauty-1k-sasrec.json");
  split = loadSpecData(spec).split;
  model = new SASRec({ ...spec.model, hiddenSize: 16, innerSize: 16, numHeads: 2 }, split.dataset.numItems, new Rng(3).child("model"));
  // A little training so scores are not all near-ties.
  for (let i = 0; i < 3; i++) {
    model.trainStep({ users: Int32Array.from({ length: 64 }, (_, u) => u), seqs: split.train.slice(64 * i, 64 * i + 64), numItems: split.dataset.numItems });
  }
  pool = new EvalPool({ threads: 2, backend: "wasm" });
});

after(async () => {
  await pool.close();
  model.dispose();
});

it("ranks and metrics equal the single-thread evaluation, for valid and test", () => {
  for (const which of ["valid", "test"] as const) {
    const one = evaluate(model, split, which, { chunkSize: 64, runner: null });
    const two = evaluate(model, split, which, { chunkSize: 64, runner: pool });
    assert.deepEqual(two.ranks, one.ranks);
    assert.deepEqual(two.metrics, one.metrics);
  }
});

it("the helper's chunks alone give the same ranks (the caller only waits)", async () => {
  const helpersOnly = new EvalPool({ threads: 2, backend: "wasm", callerScores: false });
  try {
    const one = evaluate(model, split, "valid", { chunkSize: 64, runner: null });
    const two = evaluate(model, split, "valid", { chunkSize: 64, runner: helpersOnly });
    assert.deepEqual(helpersOnly.lastShare, [0, Math.ceil(split.train.length / 64)]);
    assert.deepEqual(two.ranks, one.ranks);
  } finally {
    await helpersOnly.close();
  }
});

it("scoring through a heap view (withScores) gives the ranks of copied scores (scoreNext)", () => {
  const copying: NextItemScorer = { scoreNext: (h) => model.scoreNext(h) };
  let viewed = 0;
  const viewing: NextItemScorer = {
    scoreNext: () => assert.fail("withScores should be used"),
    withScores: (h, use) => model.withScores(h, (s) => (viewed++, use(s))),
  };
  for (const which of ["valid", "test"] as const) {
    const one = evaluate(copying, split, which, { chunkSize: 64, runner: null });
    const two = evaluate(viewing, split, which, { chunkSize: 64, runner: null });
    assert.deepEqual(two.ranks, one.ranks);
  }
  assert.ok(viewed > 0);
});

it("ranks do not depend on the chunk size (padding to a chunk's longest history changes no score)", () => {
  const big = evaluate(model, split, "test", { chunkSize: 1000, runner: null });
  const small = evaluate(model, split, "test", { chunkSize: 37, runner: null });
  assert.deepEqual(small.ranks, big.ranks);
});

it("a subset of users keeps the caller's order", () => {
  const users = Int32Array.from([500, 3, 999, 42, 7, 250, 251, 600]);
  const one = evaluate(model, split, "valid", { users, chunkSize: 2, runner: null });
  const two = evaluate(model, split, "valid", { users, chunkSize: 2, runner: pool });
  assert.deepEqual(two.ranks, one.ranks);
});

it("new weights reach the helpers before the next evaluation", () => {
  const before = evaluate(model, split, "valid", { chunkSize: 64, runner: pool });
  model.trainStep({ users: Int32Array.from({ length: 64 }, (_, u) => u), seqs: split.train.slice(200, 264), numItems: split.dataset.numItems });
  const one = evaluate(model, split, "valid", { chunkSize: 64, runner: null });
  const two = evaluate(model, split, "valid", { chunkSize: 64, runner: pool });
  assert.deepEqual(two.ranks, one.ranks);
  assert.notDeepEqual(two.ranks, before.ranks);
});

it("a helper that fails reports its error instead of hanging", () => {
  // The caller can score with this model, but the helper cannot build a replica (3 heads do not divide 16).
  const broken: NextItemScorer & { config: object; numItems: number; getWeights(): object } = {
    config: { ...model.config, numHeads: 3 },
    numItems: model.numItems,
    getWeights: () => model.getWeights(),
    scoreNext: (h) => model.scoreNext(h),
  };
  const p = new EvalPool({ threads: 2, backend: "wasm" });
  try {
    assert.throws(() => evaluate(broken, split, "valid", { chunkSize: 16, runner: p }), /evaluation thread failed.*numHeads/s);
  } finally {
    void p.close();
  }
});

it("--eval-threads accepts auto or an integer >= 1 and names itself otherwise", async () => {
  const { parseThreads } = await import("../src/cli/options.ts");
  const parseEvalThreads = (v: unknown) => parseThreads("--eval-threads", v);
  assert.equal(parseEvalThreads(undefined), "auto");
  assert.equal(parseEvalThreads("auto"), "auto");
  assert.equal(parseEvalThreads("2"), 2);
  assert.throws(() => parseEvalThreads("0"), /`--eval-threads` must be an integer >= 1; got 0/);
  assert.throws(() => parseEvalThreads("two"), /`--eval-threads` must be an integer >= 1; got "two"/);
});

it("createEvalPool: 1 thread ranks on the caller, 2 share the chunks; same ranks; close() stops the helpers", async () => {
  const one = createEvalPool(1, "wasm");
  const two = createEvalPool(2, "wasm");
  try {
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    const a = evaluate(model, split, "test", { chunkSize: 64, runner: one });
    const b = evaluate(model, split, "test", { chunkSize: 64, runner: two });
    assert.deepEqual(b.ranks, a.ranks);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});
