import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError } from "../src/data/errors.ts";
import { loadSequences, parseSequences } from "../src/data/sequences.ts";

const FILE = "envs/x.txt";

function errorOf(text: string, opts = {}): DataError {
  try {
    parseSequences(text, FILE, opts);
  } catch (e) {
    assert.ok(e instanceof DataError, `expected DataError, got ${e}`);
    return e;
  }
  assert.fail("expected a DataError");
}

test("loads the tiny fixture with ids, users and numItems", () => {
  const d = loadSequences("test/fixtures/data/tiny.txt");
  assert.equal(d.name, "tiny");
  assert.equal(d.numItems, 6);
  assert.deepEqual(d.userIds, ["1", "2", "3", "4"]);
  assert.deepEqual(Array.from(d.sequences[3]!), [5, 4, 3, 2, 1, 6]);
  assert.equal(d.report.rows, 4);
  assert.equal(d.report.skipped, 0);
});

test("CRLF line endings and a final newline are accepted", () => {
  const d = parseSequences("1 1 2\r\n2 3 4\r\n", FILE);
  assert.equal(d.sequences.length, 2);
  assert.deepEqual(Array.from(d.sequences[1]!), [3, 4]);
});

test("each bad-line kind names file:line and the fix", () => {
  const cases: [string, object, number, string, RegExp][] = [
    ["1 1 2\n2 3 abc\n", {}, 2, "not-an-integer", /item id "abc" is not a positive integer/],
    ["1 1 2\nx 3 4\n", {}, 2, "not-an-integer", /user id "x"/],
    ["1 1 2\n2 0 4\n", {}, 2, "not-an-integer", /item id "0"/],
    ["1 1 2\n\n2 3 4\n", {}, 2, "empty-line", /empty line/],
    ["1 1 2\n2 3\n1 5 6\n", {}, 3, "duplicate-user", /user 1 appears twice/],
    ["1 1 2\n2\n", {}, 2, "no-items", /user 2 has no items/],
    ["1 1 2\n2 3 9\n", { numItems: 5 }, 2, "out-of-range", /item id 9 is above `numItems` = 5/],
  ];
  for (const [text, opts, line, kind, re] of cases) {
    const e = errorOf(text, opts);
    assert.equal(e.file, FILE);
    assert.equal(e.line, line, text);
    assert.equal(e.kind, kind);
    assert.match(e.message, new RegExp(`^envs/x\\.txt:${line}: `));
    assert.match(e.message, re);
    assert.match(e.message, /--on-bad-row skip/);
  }
});

test("skip mode drops bad lines and counts them by kind", () => {
  const text = "1 1 2\n2 3 abc\n\n1 5 6\n3 4 5\n4 9\n";
  const d = parseSequences(text, FILE, { onBadRow: "skip", numItems: 8 });
  assert.deepEqual(d.userIds, ["1", "3"]);
  assert.equal(d.report.rows, 6);
  assert.equal(d.report.skipped, 4);
  assert.deepEqual(d.report.skippedByKind, { "not-an-integer": 1, "empty-line": 1, "duplicate-user": 1, "out-of-range": 1 });
  assert.equal(d.report.examples.length, 4);
  assert.match(d.report.examples[0]!, /^envs\/x\.txt:2: /);
});

test("a file with no usable line is an error even in skip mode", () => {
  assert.throws(() => parseSequences("a b\n", FILE, { onBadRow: "skip" }), /no usable user lines/);
});

test("an unknown onBadRow value is rejected with the parameter named", () => {
  assert.throws(() => parseSequences("1 2\n", FILE, { onBadRow: "ignore" as never }), /`onBadRow`/);
});
