/** Registry, correlation tables, op context, sub-policies and the batch plumbing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import {
  batchOpInfos, batchOpNames, createBatchOps, listOpInfos, loadTransformerOps, opInfos, requireOp, textOps,
} from "../src/augment/registry.ts";
import { buildOpContext } from "../src/augment/opcontext.ts";
import { cooccurrenceNeighbours, PopularitySampler } from "../src/augment/correlation.ts";
import { applySubPolicy, validateSubPolicy } from "../src/augment/subpolicy.ts";
import { mergeSamples, selectSamples, validateBatch } from "../src/augment/batch.ts";
import { buildTitleVocab, tokenizeTitle } from "../src/augment/titles.ts";
import { withContext } from "../src/augment/context.ts";
import { randomBatch, syntheticContext, syntheticDataset } from "./augment-fixtures.ts";

const ctx = syntheticContext();
const ops = createBatchOps(ctx);

test("registry: stable order sequence → label → context → text, unique names, full metadata", async () => {
  const infos = await listOpInfos();
  const families = infos.map((o) => o.family);
  const rank = { sequence: 0, label: 1, context: 2, text: 3, transformer: 4, view: 5 } as const;
  for (let i = 1; i < families.length; i++) assert.ok(rank[families[i]!] >= rank[families[i - 1]!], `family order broken at ${infos[i]!.name}`);
  assert.equal(new Set(infos.map((o) => o.name)).size, infos.length);
  for (const o of infos) {
    assert.match(o.name, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(o.description.length > 10 && o.magnitude.length > 5, `${o.name} lacks description/magnitude`);
  }
  assert.deepEqual(infos.slice(0, batchOpInfos.length).map((o) => o.name), batchOpNames);
  assert.deepEqual(infos.slice(0, opInfos.length), opInfos, "the static list is the head of the full list");
  const { transformerOpInfos } = await loadTransformerOps();
  assert.deepEqual(infos.slice(opInfos.length).map((o) => o.name), transformerOpInfos.map((o) => o.name));
  assert.deepEqual(infos.filter((o) => o.family === "text").map((o) => o.name), textOps.map((o) => o.name));
  // The env's action space indexes this list; pin the batch part so a reorder is a visible change.
  assert.deepEqual(batchOpNames, [
    "crop", "mask", "reorder", "substitute", "insert", "slide", "item-dropout", "noise-insert",
    "label-smoothing", "target-jitter", "rank-truncate", "negative-hardness",
    "attribute-dropout", "attribute-mask", "title-token-dropout", "title-token-mask", "time-jitter",
  ]);
  for (const name of ["crop", "mask", "reorder", "substitute", "insert", "slide", "item-dropout", "noise-insert"]) {
    assert.equal(requireOp(ops, name).family, "sequence");
  }
});

test("registry: unknown names throw and list the known ones", () => {
  assert.throws(() => requireOp(ops, "cropp"), (e: Error) => /unknown augmentation op `cropp`/.test(e.message) && e.message.includes("crop, mask, reorder"));
  assert.throws(() => requireOp(batchOpInfos, "nope"), /known ops: crop/);
});

test("co-occurrence neighbours: windowed, normalised, deterministic, built from the given sequences only", () => {
  const train = [Int32Array.of(1, 2, 3), Int32Array.of(1, 2), Int32Array.of(4, 1, 2), Int32Array.of(5, 6, 7, 8)];
  const t = cooccurrenceNeighbours(train, 9, { topK: 2, window: 1 });
  assert.deepEqual(Array.from(t[1]!), [2, 4]);
  assert.deepEqual(Array.from(t[2]!), [1, 3]);
  assert.deepEqual(Array.from(t[5]!), [6]);
  assert.equal(t[9]!.length, 0, "item 9 never occurs in train");
  assert.ok(!Array.from(t[5]!).includes(7), "distance 2 is outside window 1");
  assert.deepEqual(cooccurrenceNeighbours(train, 9, { topK: 2, window: 1 }), t);
  assert.throws(() => cooccurrenceNeighbours([Int32Array.of(1, 12)], 9), /item 12 out of 1..9/);
  assert.throws(() => cooccurrenceNeighbours(train, 9, { topK: 0 }), /`topK` must be a positive integer, got 0/);
});

test("op context: held-out items do not leak into neighbours; a precomputed table is used and checked", () => {
  const { dataset, split } = syntheticDataset();
  const c = buildOpContext({ numItems: dataset.numItems, train: split.train });
  const trainPairs = new Set<string>();
  for (const s of split.train) for (let i = 0; i < s.length; i++) for (let d = 1; d <= 3 && i + d < s.length; d++) {
    trainPairs.add(`${s[i]},${s[i + d]}`); trainPairs.add(`${s[i + d]},${s[i]}`);
  }
  c.neighbours.forEach((row, a) => row.forEach((b) => assert.ok(trainPairs.has(`${a},${b}`), `${a}->${b} not from train`)));

  const table = Array.from({ length: dataset.numItems + 1 }, (_, a) => (a === 0 ? new Int32Array(0) : Int32Array.of((a % dataset.numItems) + 1)));
  const c2 = buildOpContext({ numItems: dataset.numItems, train: split.train, neighbours: table });
  const batch: TrainBatch = { users: Int32Array.of(0), seqs: [Int32Array.of(3, 10, 20, 30)], numItems: dataset.numItems };
  const out = createBatchOps(c2).get("substitute")!.apply(batch, 1, new Rng(1));
  assert.deepEqual(Array.from(out.seqs[0]!), [4, 11, 21, 30]);
  assert.throws(() => buildOpContext({ numItems: 60, train: split.train, neighbours: table.slice(0, 10) }), /`neighbours` must have numItems \+ 1 = 61 rows/);
  table[5] = Int32Array.of(99);
  assert.throws(() => buildOpContext({ numItems: 60, train: split.train, neighbours: table }), /`neighbours\[5\]` holds item 99/);
});

test("popularity sampler follows counts and avoids the given item", () => {
  const s = new PopularitySampler([0, 100, 1, 1, 0]);
  const rng = new Rng(1);
  const hits = [0, 0, 0, 0, 0];
  for (let i = 0; i < 2000; i++) hits[s.sample(rng)]!++;
  assert.ok(hits[1]! > 1500 && hits[4]! > 0, `hits ${hits}`);
  for (let i = 0; i < 200; i++) assert.notEqual(s.sample(rng, 1), 1);
});

test("title vocabulary: lower-cased word ids, first-seen order, capped length", () => {
  assert.deepEqual(tokenizeTitle("OPI Nail-Lacquer, 0.5 Oz"), ["opi", "nail", "lacquer", "0", "5", "oz"]);
  const v = buildTitleVocab(["", "Red Nail polish", "red gel", "x ".repeat(30)], { maxTokens: 4 });
  assert.deepEqual(v.words.slice(0, 6), ["", "red", "nail", "polish", "gel", "x"]);
  assert.deepEqual(Array.from(v.itemTokens[2]!), [1, 4]);
  assert.equal(v.itemTokens[3]!.length, 4);
  assert.equal(v.itemTokens[0]!.length, 0);
});

test("withContext fills per-item attributes and title tokens aligned with seqs", () => {
  const batch: TrainBatch = {
    users: Int32Array.of(0), seqs: [Int32Array.of(1, ctx.numItems + 1, 3)], targets: [Int32Array.of(2, 3)], numItems: ctx.numItems,
  };
  const out = withContext(batch, ctx);
  assert.equal(out.attributes![0]!.length, 3);
  assert.deepEqual(out.attributes![0]![0], ctx.itemAttributes![1]);
  assert.equal(out.attributes![0]![1]!.length, 0, "mask token has no attributes");
  assert.deepEqual(out.titleTokens![0]![2], ctx.titleVocab!.itemTokens[3]);
  assert.deepEqual(validateBatch(out, { numAttributes: ctx.numAttributes, titleVocabSize: ctx.titleVocab!.size }), []);
});

test("validateBatch catches broken batches", () => {
  const ok: TrainBatch = { users: Int32Array.of(0), seqs: [Int32Array.of(1, 2, 3)], numItems: 5 };
  assert.deepEqual(validateBatch(ok), []);
  const bad = (b: Partial<TrainBatch>): string[] => validateBatch({ ...ok, ...b });
  assert.match(bad({ seqs: [Int32Array.of(1)] }).join(), /length 1 < 2/);
  assert.match(bad({ seqs: [Int32Array.of(1, 2, 6)] }).join(), /seqs\[2\] = 6 out of 1..5/);
  assert.deepEqual(bad({ seqs: [Int32Array.of(6, 2, 3)] }), [], "mask token allowed as an input");
  assert.match(bad({ targets: [Int32Array.of(2)] }).join(), /targets length 1, expected 2/);
  assert.match(bad({ negatives: [Int32Array.of(2, 1)] }).join(), /negatives\[0\] equals its target 2/);
  assert.match(bad({ times: [Float64Array.of(3, 2, 4)] }).join(), /times decrease at 1/);
  assert.match(bad({ weights: [Float32Array.of(1, -1)] }).join(), /weights\[1\] = -1/);
});

test("sub-policy: validated, deterministic, probability 0 is identity, batch and sample modes stay valid", () => {
  const limits = { numAttributes: ctx.numAttributes, titleVocabSize: ctx.titleVocab!.size };
  const policy = [
    { op: "mask", probability: 0.7, magnitude: 0.4 },
    { op: "crop", probability: 0.5, magnitude: 0.6 },
    { op: "negative-hardness", probability: 0.5, magnitude: 0.5 },
    { op: "label-smoothing", probability: 0.5, magnitude: 1 },
    { op: "attribute-mask", probability: 0.5, magnitude: 0.5 },
  ];
  assert.throws(() => validateSubPolicy([{ op: "crops", probability: 1, magnitude: 1 }], ops), /unknown augmentation op `crops`/);
  assert.throws(() => validateSubPolicy([{ op: "crop", probability: 2, magnitude: 1 }], ops), /step 0 \(`crop`\): `probability` must be in \[0, 1\], got 2/);
  const rng = new Rng(30);
  for (let k = 0; k < 100; k++) {
    const batch = randomBatch(rng, ctx);
    for (const mode of ["batch", "sample"] as const) {
      const a = applySubPolicy(batch, policy, ops, new Rng(k, mode), mode);
      assert.deepEqual(a, applySubPolicy(batch, policy, ops, new Rng(k, mode), mode));
      assert.deepEqual(validateBatch(a, limits), [], `${mode} mode`);
      assert.equal(applySubPolicy(batch, policy.map((s) => ({ ...s, probability: 0 })), ops, new Rng(k), mode), batch);
    }
  }
});

test("sub-policy sample mode changes only the samples whose coin fired", () => {
  const B = 200;
  const batch: TrainBatch = {
    users: Int32Array.from({ length: B }, (_, i) => i),
    seqs: Array.from({ length: B }, () => Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)),
    numItems: ctx.numItems,
  };
  const out = applySubPolicy(batch, [{ op: "crop", probability: 0.3, magnitude: 0.5 }], ops, new Rng(1), "sample");
  const changed = out.seqs.filter((s, b) => s !== batch.seqs[b]).length;
  assert.ok(changed > 30 && changed < 90, `${changed} of ${B} changed, expected about 60`);
  out.seqs.forEach((s, b) => { if (s !== batch.seqs[b]) assert.equal(s.length, 5); });
});

test("selectSamples/mergeSamples round-trip and fill defaults for fields only the sub-batch has", () => {
  const batch = randomBatch(new Rng(40), ctx, false);
  const idx = [0];
  assert.deepEqual(mergeSamples(batch, idx, selectSamples(batch, idx), new Rng(1)), batch);
  const sub = ops.get("rank-truncate")!.apply(selectSamples(batch, idx), 1, new Rng(1));
  const merged = mergeSamples(batch, idx, sub, new Rng(1));
  assert.equal(merged.weights!.length, batch.seqs.length);
  assert.equal(merged.weights![0], sub.weights![0]);
  for (let b = 1; b < batch.seqs.length; b++) assert.ok(merged.weights![b]!.every((w) => w === 1));
  assert.deepEqual(validateBatch(merged), []);
});
