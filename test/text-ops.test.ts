import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Rng } from "../src/core/rng.ts";
import {
  createPadTruncateOp,
  createSynonymOp,
  createTypoOp,
  loadDefaultLexicon,
  QWERTY_NEIGHBOURS,
  splitWords,
  textOps,
} from "../src/augment/text/index.ts";

const root = new URL("../", import.meta.url);

/** 300 real WANDS queries plus 100 Beauty titles: lowercase queries and title-cased titles. */
function corpus(): string[] {
  const queries = readFileSync(new URL("envs/data/queries/wands_query.csv", root), "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.split("\t")[1] ?? "")
    .filter((q) => q.trim() !== "")
    .slice(0, 300);
  const titles = readFileSync(new URL("envs/data/beauty/beauty_s3rec_item_titles.tsv", root), "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.split("\t")[2] ?? "")
    .filter((t) => t.trim() !== "")
    .slice(0, 100);
  return [...queries, ...titles];
}
const TEXTS = corpus();

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Mean normalised character edit distance between inputs and outputs. */
function meanChange(a: readonly string[], b: readonly string[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += levenshtein(a[i]!, b[i]!) / Math.max(a[i]!.length, b[i]!.length, 1);
  return s / a.length;
}

test("corpus fixture is loaded", () => {
  assert.ok(TEXTS.length >= 350, `expected 350+ texts, got ${TEXTS.length}`);
});

test("textOps registers eight uniquely named text ops with documented magnitudes", () => {
  const names = textOps.map((o) => o.name);
  assert.deepEqual(names, ["synonym", "word-delete", "word-swap", "word-insert", "typo", "split-recombine", "pad-truncate", "wordnet-synonym"]);
  for (const op of textOps) {
    assert.equal(op.family, "text");
    assert.equal(op.target, "text");
    assert.ok(op.magnitude.length > 10 && op.description.length > 10, op.name);
  }
});

for (const op of textOps) {
  test(`${op.name}: magnitude 0 is the identity and the input is not mutated`, () => {
    const input = Object.freeze(TEXTS.slice());
    const out = op.apply(input, 0, new Rng(3));
    assert.notEqual(out, input);
    assert.deepEqual(out, TEXTS);
  });

  test(`${op.name}: same rng state gives the same output; another seed differs`, () => {
    const a = op.apply(TEXTS, 0.7, new Rng(11).child("augment"));
    const b = op.apply(TEXTS, 0.7, new Rng(11).child("augment"));
    const c = op.apply(TEXTS, 0.7, new Rng(12).child("augment"));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test(`${op.name}: outputs are valid at every magnitude (non-empty stays non-empty, empty stays empty)`, () => {
    const input = [...TEXTS, "", "   ", "x", "sofa"];
    for (const m of [0.01, 0.2, 0.5, 0.9, 1]) {
      const out = op.apply(input, m, new Rng(5));
      assert.equal(out.length, input.length);
      out.forEach((t, i) => {
        assert.equal(typeof t, "string");
        if (input[i]!.trim() === "") assert.equal(t, input[i]);
        else assert.ok(t.trim().length > 0, `${op.name} m=${m} emptied ${JSON.stringify(input[i])}`);
      });
    }
  });

  test(`${op.name}: mean change grows with magnitude`, () => {
    const levels = [0.1, 0.4, 1].map((m) => meanChange(TEXTS, op.apply(TEXTS, m, new Rng(21))));
    assert.ok(levels[0]! > 0, `${op.name}: no change at m=0.1`);
    assert.ok(levels[0]! < levels[1]! && levels[1]! < levels[2]!, `${op.name}: change not increasing: ${levels.map((x) => x.toFixed(3))}`);
  });

  test(`${op.name}: rejects a magnitude outside [0, 1] naming the parameter`, () => {
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => op.apply(TEXTS, bad, new Rng(1)), /`magnitude`.*got/);
    }
  });
}

const byName = (n: string) => textOps.find((o) => o.name === n)!;

test("word-delete at 1 keeps exactly one of the original words", () => {
  const out = byName("word-delete").apply(TEXTS, 1, new Rng(2));
  out.forEach((t, i) => {
    assert.equal(splitWords(t).length, 1);
    assert.ok(splitWords(TEXTS[i]!).includes(t));
  });
});

test("word-swap and split-recombine keep the multiset of words", () => {
  for (const name of ["word-swap", "split-recombine"]) {
    const out = byName(name).apply(TEXTS, 0.6, new Rng(4));
    out.forEach((t, i) => assert.deepEqual(splitWords(t).sort(), splitWords(TEXTS[i]!).sort(), name));
  }
});

test("split-recombine always reorders multi-word texts with distinct words at m = 1", () => {
  const input = ["red running shoes women", "coffee table", "a b c d e f"];
  const out = byName("split-recombine").apply(input, 1, new Rng(8));
  out.forEach((t, i) => assert.notEqual(t, input[i]));
});

test("word-insert at 1 doubles the word count", () => {
  const out = byName("word-insert").apply(TEXTS, 1, new Rng(6));
  out.forEach((t, i) => assert.ok(splitWords(t).length >= 2 * splitWords(TEXTS[i]!).length));
});

test("pad-truncate at 1 gives one word or twice the words plus fillers", () => {
  const op = createPadTruncateOp({ fillers: ["zzfill"] });
  const out = op.apply(TEXTS, 1, new Rng(9));
  let truncated = 0;
  out.forEach((t, i) => {
    const n = splitWords(TEXTS[i]!).length;
    const w = splitWords(t);
    if (w.length === 1 && n > 1) truncated++;
    else assert.deepEqual(w.slice(n), Array(n).fill("zzfill"));
  });
  assert.ok(truncated > 100 && truncated < 300, `truncated ${truncated} of ${TEXTS.length}`);
  assert.throws(() => createPadTruncateOp({ fillers: [] }), /`fillers`/);
});

test("synonym replaces with lexicon synonyms and keeps casing and punctuation", () => {
  const op = createSynonymOp();
  const [a, b, c] = op.apply(["sneakers", "Sofa,", "LIPSTICK"], 1, new Rng(1));
  assert.ok(loadDefaultLexicon().synonyms("sneakers").includes(a!), a);
  assert.match(b!, /^[A-Z].*,$/);
  assert.ok(loadDefaultLexicon().synonyms("sofa").includes(b!.slice(0, -1).toLowerCase()), b);
  assert.equal(c, c!.toUpperCase());
  // A text without lexicon terms is returned byte for byte.
  assert.deepEqual(op.apply(["  zxq   qqv "], 1, new Rng(1)), ["  zxq   qqv "]);
});

test("typo: neighbour table is symmetric and edits stay near the original", () => {
  for (const [k, near] of QWERTY_NEIGHBOURS) for (const n of near) assert.ok(QWERTY_NEIGHBOURS.get(n)!.includes(k), `${k}~${n}`);
  assert.equal(QWERTY_NEIGHBOURS.get("g"), "fhtyvb");
  const op = createTypoOp({ maxFraction: 0.1 });
  const out = op.apply(TEXTS, 1, new Rng(7));
  out.forEach((t, i) => {
    const letters = TEXTS[i]!.replace(/[^a-z0-9]/gi, "").length;
    assert.ok(levenshtein(TEXTS[i]!, t) <= 2 * Math.ceil(0.1 * letters), `${TEXTS[i]} -> ${t}`);
  });
  assert.throws(() => createTypoOp({ maxFraction: 0 }), /`maxFraction`/);
});
