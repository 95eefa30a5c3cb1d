import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { env } from "@xenova/transformers";
import { Rng } from "../src/core/rng.ts";
import { splitWords } from "../src/augment/text/index.ts";
import {
  backTranslateCandidates,
  createTransformerOp,
  embedNeighbourCandidates,
  mlmCandidates,
  opFromCache,
  precomputeTransformerCache,
  readCandidateCache,
  transformerOpInfos,
  writeCandidateCache,
} from "../src/augment/transformer/index.ts";

// Offline only: the ops set this too, the test makes the requirement explicit.
env.allowRemoteModels = false;
const modelDir = fileURLToPath(new URL("./fixtures/tiny-bert/", import.meta.url));
const MLM = { modelDir, model: "tiny-bert-mlm" };
const TMP = mkdtempSync(join(tmpdir(), "augrl-tf-"));
test.after(() => rmSync(TMP, { recursive: true, force: true }));

const QUERIES = [
  "red running shoes for women",
  "grey sectional couch with ottoman",
  "OPI Nail Lacquer, Simmer and Shimmer",
  "moisturizer for dry skin",
  "coffee table",
  "lipstick",
  "12345",
];

const mlmCache = mlmCandidates(QUERIES, { ...MLM, topK: 4 });

test("transformerOpInfos declares the three transformer ops", () => {
  assert.deepEqual(transformerOpInfos.map((o) => o.name), ["mlm-substitute", "embed-neighbour", "back-translate"]);
  for (const o of transformerOpInfos) assert.equal(o.family, "transformer");
});

test("mlm-substitute: fill-mask on the tiny fixture gives whole-word candidates per word", async () => {
  const cache = await mlmCache;
  assert.equal(cache.op, "mlm-substitute");
  assert.equal(cache.entries.size, QUERIES.length);
  for (const q of QUERIES) {
    const e = cache.entries.get(q)!;
    const words = splitWords(q);
    for (const [pos, list] of e.words) {
      assert.ok(pos < words.length);
      assert.ok(list.length > 0 && list.length <= 4);
      for (const c of list) {
        assert.match(c.candidate, /^\p{L}[\p{L}'-]*\p{L}$/u);
        assert.notEqual(c.candidate, words[pos]!.toLowerCase());
        assert.ok(c.score > 0 && c.score <= 1);
      }
    }
  }
  // Every alphabetic word of a plain query was masked; digits never are.
  assert.equal(cache.entries.get("red running shoes for women")!.words.size, 5);
  assert.equal(cache.entries.get("12345")!.words.size, 0);
});

test("mlm-substitute op: identity at 0, seeded, valid, change grows with magnitude", async () => {
  const op = opFromCache("mlm-substitute", await mlmCache);
  assert.deepEqual(op.apply(QUERIES, 0, new Rng(1)), QUERIES);
  assert.deepEqual(op.apply(QUERIES, 0.5, new Rng(2)), op.apply(QUERIES, 0.5, new Rng(2)));
  const changed = (m: number) => {
    let words = 0;
    for (let s = 0; s < 40; s++) {
      const out = op.apply(QUERIES, m, new Rng(s));
      out.forEach((t, i) => {
        assert.ok(t.trim() !== "");
        const a = splitWords(QUERIES[i]!);
        const b = splitWords(t);
        assert.equal(b.length, a.length, "substitution keeps the word count");
        words += a.filter((w, j) => w !== b[j]).length;
      });
    }
    return words;
  };
  const [lo, mid, hi] = [0.1, 0.5, 1].map(changed);
  assert.ok(lo! > 0 && lo! < mid! && mid! < hi!, `${lo} ${mid} ${hi}`);
  // Title casing and punctuation of the original word survive.
  const out = op.apply(["OPI Nail Lacquer, Simmer and Shimmer"], 1, new Rng(3))[0]!;
  assert.match(splitWords(out)[2]!, /^\p{Lu}\p{Ll}+,$/u);
  // Unknown texts pass through.
  assert.deepEqual(op.apply(["never seen"], 1, new Rng(1)), ["never seen"]);
  assert.equal(op.coverage([...QUERIES, "never seen"]), QUERIES.length / (QUERIES.length + 1));
  assert.throws(() => op.apply(QUERIES, 2, new Rng(1)), /`magnitude`/);
});

test("cache round-trips through an Arrow IPC file that polars can read", async () => {
  const path = await precomputeTransformerCache(QUERIES, "mlm-substitute", { ...MLM, topK: 4, cachePath: join(TMP, "mlm.arrow") });
  const fromFile = await createTransformerOp("mlm-substitute", { cachePath: path });
  const inMemory = opFromCache("mlm-substitute", await mlmCache);
  assert.deepEqual(fromFile.apply(QUERIES, 0.7, new Rng(9)), inMemory.apply(QUERIES, 0.7, new Rng(9)));
  assert.equal(fromFile.coverage(QUERIES), 1, "texts without candidates are still recorded as processed");
  const pl = (await import("nodejs-polars")).default;
  const df = pl.readIPC(readFileSync(path));
  assert.deepEqual(df.columns, ["text", "position", "candidate", "score"]);
  assert.ok(df.height > 10);
});

test("cache errors name the file, the op and the fix", async () => {
  const path = writeCandidateCache(join(TMP, "m.arrow"), await mlmCache);
  assert.throws(() => readCandidateCache(path, "back-translate"), /`mlm-substitute`.*expected `back-translate`/);
  writeFileSync(join(TMP, "junk.arrow"), "not arrow");
  assert.throws(() => readCandidateCache(join(TMP, "junk.arrow")), /junk\.arrow.*precomputeTransformerCache/);
  await assert.rejects(createTransformerOp("mlm-substitute"), /`cachePath`/);
  await assert.rejects(createTransformerOp("paraphrase", { texts: QUERIES }), /unknown `name`.*mlm-substitute/);
});

test("a missing model fails naming the folder searched and the fix", async () => {
  await assert.rejects(
    createTransformerOp("mlm-substitute", { texts: QUERIES, modelDir, model: "no-such-bert" }),
    (e: Error) => e.message.includes(join(modelDir, "no-such-bert")) && /config\.json/.test(e.message) && /`modelDir`/.test(e.message),
  );
  await assert.rejects(
    backTranslateCandidates(QUERIES, { modelDir: join(TMP, "empty"), pivots: [{ forward: "Xenova/opus-mt-en-de", backward: "x" }] }),
    /Xenova\/opus-mt-en-de.*encoder_model_quantized\.onnx/,
  );
});

test("embed-neighbour: nearest vocabulary terms, never the word itself", async () => {
  const vocabulary = ["sneakers", "trainers", "couch", "sofa", "lotion", "red", "crimson", "table", "desk"];
  const cache = await embedNeighbourCandidates(QUERIES, { ...MLM, vocabulary, topK: 3 });
  const e = cache.entries.get("red running shoes for women")!;
  assert.equal(e.words.size, 5);
  for (const [pos, list] of e.words) {
    assert.equal(list.length, 3);
    for (const c of list) {
      assert.ok(vocabulary.includes(c.candidate));
      assert.notEqual(c.candidate, splitWords("red running shoes for women")[pos]);
    }
    assert.ok(list[0]!.score >= list[1]!.score && list[1]!.score >= list[2]!.score);
  }
  const op = await createTransformerOp("embed-neighbour", { cache });
  const out = op.apply(QUERIES, 1, new Rng(4));
  assert.notEqual(out[0], QUERIES[0]);
  assert.equal(splitWords(out[0]!).length, 5);
});

test("back-translate: round trip through the tiny Marian fixture gives cached paraphrases", async () => {
  const pivots = [{ forward: "tiny-marian-mt", backward: "tiny-marian-mt" }];
  const cache = await backTranslateCandidates(QUERIES, { modelDir, pivots, maxNewTokens: 6 });
  const withPara = QUERIES.filter((q) => cache.entries.get(q)!.whole.length > 0);
  assert.ok(withPara.length >= QUERIES.length - 1, `paraphrases for ${withPara.length}/${QUERIES.length}`);
  for (const q of withPara) {
    const p = cache.entries.get(q)!.whole[0]!.candidate;
    assert.ok(p.trim() !== "" && p !== q);
  }
  // Greedy decoding is deterministic: a second run gives the same paraphrases.
  const again = await backTranslateCandidates(QUERIES, { modelDir, pivots, maxNewTokens: 6 });
  assert.deepEqual([...again.entries.values()].map((e) => e.whole), [...cache.entries.values()].map((e) => e.whole));
  const op = opFromCache("back-translate", cache);
  assert.deepEqual(op.apply(withPara, 1, new Rng(1)), withPara.map((q) => cache.entries.get(q)!.whole[0]!.candidate));
  let replaced = 0;
  for (let s = 0; s < 50; s++) replaced += op.apply(withPara, 0.3, new Rng(s)).filter((t, i) => t !== withPara[i]).length;
  const rate = replaced / (50 * withPara.length);
  assert.ok(rate > 0.15 && rate < 0.45, `replacement rate at m=0.3: ${rate}`);
});
