/**
 * Fixtures for the augment tests: a small synthetic catalogue/dataset, random valid batches
 * (with every optional field, and after random earlier ops so inputs already hold mask tokens,
 * jittered targets and zero weights), and a few real Beauty users read from envs/data.
 */
import { readFileSync } from "node:fs";
import { Rng } from "../src/core/rng.ts";
import { leaveOneOut } from "../src/data/split.ts";
import type { Catalogue, LeaveOneOutSplit, SeqDataset, TrainBatch } from "../src/data/types.ts";
import { buildOpContext, type OpContext } from "../src/augment/opcontext.ts";
import { withContext } from "../src/augment/context.ts";
import { createBatchOps } from "../src/augment/registry.ts";
import { uniformItem } from "../src/augment/batch.ts";

export const NUM_ITEMS = 60;
const WORDS = ["red", "blue", "nail", "polish", "gel", "soft", "brush", "oil", "matte", "gloss", "lip", "eye", "cream", "spf"];

/** Synthetic dataset: 80 users, 3..25 items each, items clustered so co-occurrence is informative. */
export function syntheticDataset(): { dataset: SeqDataset; split: LeaveOneOutSplit } {
  const rng = new Rng(7, "fixture");
  const sequences: Int32Array[] = [];
  const timestamps: Float64Array[] = [];
  for (let u = 0; u < 80; u++) {
    const L = 3 + rng.int(23);
    const s = new Int32Array(L);
    const t = new Float64Array(L);
    let cluster = rng.int(6);
    let time = 1.4e9 + rng.int(1e6);
    for (let i = 0; i < L; i++) {
      if (rng.bernoulli(0.2)) cluster = rng.int(6);
      s[i] = 1 + cluster * 10 + rng.int(10);
      // Some equal timestamps on purpose (same-second purchases exist in real logs).
      time += rng.bernoulli(0.2) ? 0 : 3600 * (1 + rng.int(200));
      t[i] = time;
    }
    sequences.push(s);
    timestamps.push(t);
  }
  const titles = [""];
  const attributes: Int32Array[] = [new Int32Array(0)];
  for (let it = 1; it <= NUM_ITEMS; it++) {
    const n = 1 + rng.int(6);
    titles.push(Array.from({ length: n }, () => rng.pick(WORDS)).join(" ") + ` item${it}`);
    attributes.push(it % 7 === 0 ? new Int32Array(0) : Int32Array.from({ length: 1 + rng.int(4) }, () => 1 + rng.int(12)));
  }
  const catalogue: Catalogue = { titles, attributes, numAttributes: 12 };
  const dataset: SeqDataset = { name: "synthetic", numItems: NUM_ITEMS, sequences, timestamps, catalogue };
  return { dataset, split: leaveOneOut(dataset) };
}

let cachedCtx: OpContext | undefined;
/** Op context of the synthetic dataset (built once). */
export function syntheticContext(): OpContext {
  if (!cachedCtx) {
    const { dataset, split } = syntheticDataset();
    cachedCtx = buildOpContext({ numItems: dataset.numItems, train: split.train, catalogue: dataset.catalogue, topK: 5 });
  }
  return cachedCtx;
}

/**
 * A random valid batch: 1..12 samples of length 2..30 with times, attributes and title tokens;
 * with `prior`, up to three random ops (magnitudes < 1) have already run on it.
 */
export function randomBatch(rng: Rng, ctx: OpContext, prior = true): TrainBatch {
  const B = 1 + rng.int(12);
  const seqs: Int32Array[] = [];
  const times: Float64Array[] = [];
  for (let b = 0; b < B; b++) {
    const L = 2 + rng.int(29);
    seqs.push(Int32Array.from({ length: L }, () => 1 + rng.int(ctx.numItems)));
    let t = 1e9;
    times.push(Float64Array.from({ length: L }, () => (t += rng.bernoulli(0.3) ? 0 : 60 * (1 + rng.int(10000)))));
  }
  let batch: TrainBatch = withContext({ users: Int32Array.from({ length: B }, (_, b) => b), seqs, numItems: ctx.numItems, times }, ctx);
  if (rng.bernoulli(0.3)) {
    batch.negatives = batch.seqs.map((s) => Int32Array.from(s.subarray(1), (t) => uniformItem(rng, ctx.numItems, t)));
  }
  if (!prior) return batch;
  const ops = [...createBatchOps(ctx).values()];
  const k = rng.int(4);
  for (let i = 0; i < k; i++) batch = rng.pick(ops).apply(batch, rng.random() * 0.9, rng);
  return batch;
}

/** Deep structural copy (typed arrays copied) so tests can check an op did not mutate its input. */
export function deepCopy<T>(x: T): T {
  return structuredClone(x);
}

/** The first `n` users of the shipped Beauty data, with titles and attributes for all items. */
export function beautySample(n: number): { dataset: SeqDataset; split: LeaveOneOutSplit } {
  const root = new URL("../envs/data/beauty/", import.meta.url);
  const lines = readFileSync(new URL("Beauty.txt", root), "utf8").split("\n", n);
  const sequences = lines.map((l) => Int32Array.from(l.trim().split(" ").slice(1), Number));
  const numItems = 12101;
  const titles: string[] = new Array(numItems + 1).fill("");
  for (const row of readFileSync(new URL("beauty_s3rec_item_titles.tsv", root), "utf8").split("\n").slice(1)) {
    const [id, , title] = row.split("\t");
    if (id && title !== undefined) titles[Number(id)] = title;
  }
  const attrJson = JSON.parse(readFileSync(new URL("Beauty_item2attributes.json", root), "utf8")) as Record<string, number[]>;
  const attributes: Int32Array[] = Array.from({ length: numItems + 1 }, (_, it) => Int32Array.from(attrJson[String(it)] ?? []));
  const dataset: SeqDataset = { name: "beauty-head", numItems, sequences, catalogue: { titles, attributes, numAttributes: 637 } };
  return { dataset, split: leaveOneOut(dataset) };
}
