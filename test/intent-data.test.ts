import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { buildIntentData, loadIntentCsv, parseCsvRecords, samplePerLabel, stratifiedSplit } from "../src/data/intents.ts";

const dir = mkdtempSync(join(tmpdir(), "augrl-intent-data-"));
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

test("CSV records: quoted commas, doubled quotes, CRLF and a field spanning lines (error lines name where the record starts)", () => {
  const recs = parseCsvRecords('text,label\r\n"a, b",X\n"say ""hi""",Y\n"two\nlines",Z\nlast,W', "f.csv");
  assert.deepEqual(recs.map((r) => r.fields), [["text", "label"], ["a, b", "X"], ['say "hi"', "Y"], ["two\nlines", "Z"], ["last", "W"]]);
  assert.deepEqual(recs.map((r) => r.line), [1, 2, 3, 4, 6]);
});

test("loadIntentCsv reads both header styles and the shipped files", () => {
  const a = loadIntentCsv(file("a.csv", "sentence,label\nhello there,GREET\n\"where, is it\",WHERE\n"));
  assert.deepEqual(a.texts, ["hello there", "where, is it"]);
  assert.deepEqual(a.labels, ["GREET", "WHERE"]);
  const b = loadIntentCsv("envs/data/banking77/test.csv");
  assert.equal(b.texts.length, 3080);
  assert.equal(new Set(b.labels).size, 77);
  const s = loadIntentCsv("envs/data/hint3/sofmattress_train.csv");
  assert.equal(s.texts.length, 328);
  assert.equal(new Set(s.labels).size, 21);
});

test("bad rows fail naming file:line, what is wrong and the fix", () => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["nolabel.csv", "sentence,label\nok,A\njust text\n", /nolabel\.csv:3: missing label/],
    ["emptylabel.csv", "sentence,label\nok,A\nsome text,\n", /emptylabel\.csv:3: missing label/],
    ["emptytext.csv", "sentence,label\nok,A\n\"  \",B\n", /emptytext\.csv:3: empty text/],
    ["toomany.csv", "sentence,label\nok,A\na,b,c\n", /toomany\.csv:3: 3 fields.*quote fields/],
    ["unclosed.csv", "sentence,label\nok,A\n\"never closed,B\nmore,C\n", /unclosed\.csv:3: a quoted field is never closed/],
    ["nocol.csv", "words,tag\nok,A\n", /nocol\.csv:1: no text column/],
    ["latin1.csv", Uint8Array.from([...Buffer.from("sentence,label\nok,A\ncaf"), 0xe9, ...Buffer.from(",B\n")]), /latin1\.csv:3: bytes that are not valid UTF-8.*re-encode/],
  ];
  for (const [name, content, re] of cases) assert.throws(() => loadIntentCsv(file(name, content)), re, name);
});

test("stratified split is seeded, keeps every label in train and holds out about the fraction per label", () => {
  const labels = Int32Array.from([...Array(10).fill(0), ...Array(5).fill(1), ...Array(2).fill(2), 3]);
  const a = stratifiedSplit(labels, 0.2, new Rng(1, "s"));
  const b = stratifiedSplit(labels, 0.2, new Rng(1, "s"));
  const c = stratifiedSplit(labels, 0.2, new Rng(2, "s"));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.valid, c.valid);
  const count = (idx: number[], l: number) => idx.filter((i) => labels[i] === l).length;
  assert.deepEqual([0, 1, 2, 3].map((l) => count(a.valid, l)), [2, 1, 1, 0]); // round(0.2·n), ≥ 1 when n ≥ 2, never all
  assert.deepEqual([0, 1, 2, 3].map((l) => count(a.train, l)), [8, 4, 1, 1]);
  assert.deepEqual([...a.train, ...a.valid].sort((x, y) => x - y), Array.from({ length: labels.length }, (_, i) => i));
});

test("k-shot subsets: k rows per label, seeded; validation comes from the other rows", () => {
  const train = loadIntentCsv("envs/data/banking77/train.csv");
  const test_ = loadIntentCsv("envs/data/banking77/test.csv");
  const opts = { name: "b", seed: 1, validFraction: 0.2, shots: 10, validPerLabel: 5 };
  const a = buildIntentData(train, test_, opts, new Rng(1, "dataset"));
  const b = buildIntentData(train, test_, opts, new Rng(1, "dataset"));
  const c = buildIntentData(train, test_, opts, new Rng(2, "dataset"));
  assert.equal(a.labelNames.length, 77);
  assert.equal(a.train.texts.length, 770);
  assert.equal(a.valid.texts.length, 385);
  assert.deepEqual(a.train.texts, b.train.texts);
  assert.notDeepEqual(a.train.texts, c.train.texts);
  for (let l = 0; l < 77; l++) assert.equal(a.train.labels.filter((x) => x === l).length, 10);
  const trainSet = new Set(a.train.texts);
  assert.ok(a.valid.texts.every((t) => !trainSet.has(t) || train.texts.filter((x) => x === t).length > 1), "validation rows are not k-shot rows");
  const { picked, rest } = samplePerLabel(Int32Array.from([0, 0, 0, 1]), 2, new Rng(1));
  assert.equal(picked.length, 3);
  assert.equal(rest.length, 1);
});

test("test labels: out-of-scope maps to -1, an unknown label names the test file and line", () => {
  const train = loadIntentCsv(file("t.csv", "sentence,label\na,A\nb,A\nc,B\nd,B\n"));
  const good = loadIntentCsv(file("g.csv", "sentence,label\nx,B\ny,NONE\n"));
  const data = buildIntentData(train, good, { name: "t", seed: 1, validFraction: 0.5, validPerLabel: 1, oosLabel: "NONE" }, new Rng(1));
  assert.deepEqual([...data.test.labels], [1, -1]);
  const bad = loadIntentCsv(file("bad-test.csv", "sentence,label\nx,B\ny,C\n"));
  assert.throws(() => buildIntentData(train, bad, { name: "t", seed: 1, validFraction: 0.5, validPerLabel: 1, oosLabel: "NONE" }, new Rng(1)), /bad-test\.csv:3: label "C" never occurs/);
});
