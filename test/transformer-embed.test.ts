import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { env } from "@xenova/transformers";
import { cosine, embedTexts, nearestNeighbours, nearestNeighboursWithScores } from "../src/augment/transformer/index.ts";

env.allowRemoteModels = false;
const modelDir = fileURLToPath(new URL("./fixtures/tiny-bert/", import.meta.url));
const OPTS = { modelDir, model: "tiny-bert-mlm" };

test("embedTexts: one unit-norm vector per text, deterministic, batch-size independent", async () => {
  const texts = ["OPI Nail Lacquer, Simmer and Shimmer", "red running shoes", "sofa", "red running shoes", ""];
  const a = await embedTexts(texts, { ...OPTS, batchSize: 2 });
  const b = await embedTexts(texts, { ...OPTS, batchSize: 32 });
  assert.equal(a.length, texts.length);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i]!.length, 32, "tiny fixture hidden size");
    const norm = Math.hypot(...a[i]!);
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
    // Padding to the longest text in the batch must not change a text's vector.
    assert.ok(cosine(a[i]!, b[i]!) > 0.9999, `batch dependence at ${i}`);
  }
  assert.deepEqual(a[1], a[3]);
  assert.ok(cosine(a[1]!, a[2]!) < 0.9999);
  await assert.rejects(embedTexts(texts, { ...OPTS, batchSize: 0 }), /`batchSize`/);
});

test("nearestNeighbours: exact cosine top-k, self excluded, ties to the lower index", () => {
  const v = (...x: number[]) => Float32Array.from(x);
  const vectors = [v(1, 0), v(0.9, 0.1), v(0, 1), v(-1, 0), v(2, 0)];
  const nn = nearestNeighbours(vectors, 2);
  assert.deepEqual(nn.map((r) => Array.from(r)), [[4, 1], [0, 4], [1, 0], [2, 1], [0, 1]]);
  const { similarity } = nearestNeighboursWithScores(vectors, 10);
  assert.equal(similarity[0]!.length, 4, "k is capped at n - 1");
  assert.ok(Math.abs(similarity[0]![0]! - 1) < 1e-6);
  assert.throws(() => nearestNeighbours(vectors, 0), /`k`/);
  assert.throws(() => nearestNeighbours([v(1, 0), v(1, 0, 0)], 1), /`vectors\[1\]`/);
});

test("item titles → item-similarity table via the fixture model", async () => {
  const titles = ["nail polish red", "red nail polish", "hair dryer", "blow dryer for hair", "lipstick"];
  const nn = nearestNeighbours(await embedTexts(titles, OPTS), 3);
  assert.equal(nn.length, titles.length);
  nn.forEach((row, i) => {
    assert.equal(row.length, 3);
    assert.ok(!row.includes(i));
    assert.equal(new Set(row).size, 3);
  });
});
