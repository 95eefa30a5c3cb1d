import { test } from "node:test";
import assert from "node:assert/strict";
import { checkDenseItemIds, DataError } from "../src/data/errors.ts";
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

test("an id with more digits than Int32 holds is called too large, not malformed", () => {
  for (const [text, re] of [
    ["1 1 2\n2 99999999999 4\n", /item id "99999999999" is too large \(ids go up to 2147483646\)/],
    ["1 1 2\n99999999999 3 4\n", /user id "99999999999" is too large/],
    ["1 1 2\n2 2147483648 4\n", /item id "2147483648" is too large/],
  ] as const) {
    const e = errorOf(text);
    assert.equal(e.kind, "out-of-range");
    assert.equal(e.line, 2);
    assert.match(e.message, re);
    assert.match(e.message, /renumber the ids from 1/);
    assert.doesNotMatch(e.message, /not a positive integer/);
  }
});

test("a huge item id fails up front naming file:line and the memory it would take, not with a native abort", () => {
  // Items are stored densely by id: 2e9 means ~400 GB of per-item tables on any machine below 800 GB.
  const e = errorOf("1 1 2\n2 3 2000000000\n3 4 5\n");
  assert.equal(e.line, 2);
  assert.match(e.message, /^envs\/x\.txt:2: item id 2000000000 is too large for this machine: items are stored densely by id .*GB.*renumber the items/);
  assert.throws(() => parseSequences("1 1 2\n", FILE, { numItems: 2_000_000_000 }), /x\.txt: item id 2000000000 is too large for this machine/);
});

test("checkDenseItemIds compares per-item tables with half of the machine's memory", () => {
  const gib = 2 ** 30;
  assert.doesNotThrow(() => checkDenseItemIds(FILE, 3, 5_000_000, 4 * gib)); // 1 GB of 2 GiB allowed
  assert.throws(() => checkDenseItemIds(FILE, 3, 20_000_000, 4 * gib), (err: Error) =>
    err instanceof DataError && /^envs\/x\.txt:3: item id 20000000 is too large for this machine: .*about 4\.0 GB, above 2\.1 GB \(half of the 4\.3 GB memory\)/.test(err.message));
});

test("a UTF-8 byte-order mark before the first user id is ignored", () => {
  const d = parseSequences("\uFEFF1 1 2\n2 3 4\n", FILE);
  assert.deepEqual(d.userIds, ["1", "2"]);
});

test("a missing file is reported as not found", () => {
  assert.throws(() => loadSequences("test/fixtures/data/no-such.txt"), (e: Error) => e instanceof DataError && e.kind === "not-found" && /no-such\.txt: not found/.test(e.message));
});
