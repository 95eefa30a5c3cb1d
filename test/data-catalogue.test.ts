import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalogue } from "../src/data/catalogue.ts";
import { loadDataset } from "../src/data/load.ts";

const tmp = mkdtempSync(join(tmpdir(), "augrl-cat-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const HEADER = "s3rec_item_id\tasin\ttitle\n";

test("titles and attributes are indexed by item id, missing items empty", () => {
  const titles = write("t.tsv", HEADER + "2\tB2\tSoap\n1\tB1\tShampoo\n");
  const attributes = write("a.json", '{"1": [3, 1], "3": [7]}');
  const c = loadCatalogue({ titles, attributes }, 4);
  assert.deepEqual(c.titles, ["", "Shampoo", "Soap", "", ""]);
  assert.deepEqual(c.attributes!.map((a) => Array.from(a)), [[], [3, 1], [], [7], []]);
  assert.equal(c.numAttributes, 7);
});

test("title rows: each error kind names file:line", () => {
  const cases: [string, number, RegExp][] = [
    ["x\tB\tT\n", 2, /item id "x" is not a positive integer/],
    ["9\tB\tT\n", 2, /item id 9 is above the dataset's 4 items/],
    ["1\tB\tT\n1\tB\tU\n", 3, /item 1 has a second title row/],
    ["1\tB\n", 2, /2 TAB-separated fields, header has 3/],
    ["1\tB\tT\n\n", 3, /empty line/],
  ];
  cases.forEach(([rows, line, re], k) => {
    const p = write(`bad${k}.tsv`, HEADER + rows);
    assert.throws(() => loadCatalogue({ titles: p }, 4), (e: Error) => e.message.startsWith(`${p}:${line}: `) && re.test(e.message));
  });
  assert.throws(() => loadCatalogue({ titles: write("h.tsv", "id\tname\n1\tx\n") }, 4), /h\.tsv:1: header "id\\tname" lacks an item-id column \(s3rec_item_id \/ item_id \/ item\)/);
});

test("attribute errors name the file and the key's line; skip mode counts", () => {
  const p = write("bad.json", '{\n"1": [1],\n"x": [2],\n"9": [3],\n"2": ["a"]\n}');
  // JSON objects visit integer keys first, ascending, so item 2 (line 5) is reported before "x" (line 3).
  assert.throws(() => loadCatalogue({ attributes: p }, 4), (e: Error) => e.message.startsWith(`${p}:5: attributes of item 2 are not a list of positive integers`));
  const q = write("key.json", '{\n"1": [1],\n"x": [2]\n}');
  assert.throws(() => loadCatalogue({ attributes: q }, 4), (e: Error) => e.message.startsWith(`${q}:3: item id "x" is not a positive integer`));
  const c = loadCatalogue({ attributes: p }, 4, { onBadRow: "skip" });
  assert.deepEqual(c.reports[0]!.skippedByKind, { "not-an-integer": 2, "out-of-range": 1 });
  assert.throws(() => loadCatalogue({ attributes: write("j.json", "{oops") }, 4), /j\.json: not valid JSON/);
});

test("loadDataset attaches a catalogue to an S3-Rec file and refuses one for a log", () => {
  const seq = write("S.txt", "1 1 2 3\n2 3 4\n");
  const ds = loadDataset({ path: seq, titles: write("tt.tsv", HEADER + "4\tB4\tBrush\n") });
  assert.equal(ds.catalogue!.titles![4], "Brush");
  assert.equal(ds.reports.length, 2);
  const log = write("l.csv", "user,item,timestamp\nu,a,1\n");
  assert.throws(() => loadDataset({ path: log, titles: seq }), /only apply to format "s3rec"/);
  assert.throws(() => loadDataset({ path: write("x.parquet", "") }), /cannot tell the format.*--format/);
});

test("a UTF-8 byte-order mark does not hide the titles header or the attributes object", () => {
  const titles = write("bom.tsv", "\uFEFF" + HEADER + "2\tB2\tSoap\n");
  const attributes = write("bom.json", '\uFEFF{"1": [3]}');
  const c = loadCatalogue({ titles, attributes }, 2);
  assert.deepEqual(c.titles, ["", "", "Soap"]);
  assert.deepEqual(Array.from(c.attributes![1]!), [3]);
});

test("ids too large for Int32 are called too large in titles and attributes", () => {
  const t = write("big.tsv", HEADER + "99999999999\tB\tT\n");
  assert.throws(() => loadCatalogue({ titles: t }, 4), (e: Error) => e.message.startsWith(`${t}:2: item id "99999999999" is too large`));
  const a = write("big.json", '{"1": [3000000000]}');
  assert.throws(() => loadCatalogue({ attributes: a }, 4), (e: Error) => e.message.startsWith(`${a}:1: attribute id 3000000000 of item 1 is too large`));
});

test("a missing path says not found, not that the format is unknown", () => {
  assert.throws(() => loadDataset({ path: join(tmp, "nope", "Beauty") }), /nope\/Beauty: not found \(check the path/);
  const seq = write("S2.txt", "1 1 2 3\n");
  assert.throws(() => loadDataset({ path: seq, titles: join(tmp, "gone.tsv") }), /gone\.tsv: not found/);
});

test("the skip hint names the switch the caller has", () => {
  const seq = write("S3.txt", "1 1 2 3\n2 x\n");
  assert.throws(() => loadDataset({ path: seq }), /or pass --on-bad-row skip\)$/);
  assert.throws(() => loadDataset({ path: seq, skipHint: 'set `dataset.onBadRow`: "skip"' }), /or set `dataset\.onBadRow`: "skip"\)$/);
});
