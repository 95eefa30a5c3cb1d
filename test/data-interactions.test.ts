import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Table, tableToIPC, vectorFromArray, Utf8, Int32, TimestampSecond, Float64 } from "apache-arrow";
import { DataError } from "../src/data/errors.ts";
import { loadInteractions, splitCsvLine } from "../src/data/interactions.ts";

const tmp = mkdtempSync(join(tmpdir(), "augrl-data-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string | Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test("CSV log: sorted by time per user, users and items renumbered by first appearance, timestamps kept", () => {
  const d = loadInteractions("test/fixtures/data/log.csv");
  assert.equal(d.name, "log");
  assert.deepEqual(d.userIds, ["alice", "bob", "carol"]);
  // alice sorted: conditioner(100), soap, bar(200), shampoo(300) → items 1, 2, 3
  assert.deepEqual(d.itemIds, ["", "conditioner", "soap, bar", "shampoo", "soap", "brush"]);
  assert.deepEqual(d.sequences.map((s) => Array.from(s)), [[1, 2, 3], [2, 3], [4, 5]]);
  assert.deepEqual(Array.from(d.timestamps![0]!), [100, 200, 300]);
  assert.equal(d.timestamps![1]![1], Date.parse("2024-01-01T00:00:00Z") / 1000);
  assert.equal(d.numItems, 5);
  assert.equal(d.report.rows, 7);
});

test("ties in time keep file order", () => {
  const p = write("ties.csv", "user,item,timestamp\nu,b,5\nu,a,5\nu,c,1\n");
  assert.deepEqual(loadInteractions(p).itemIds, ["", "c", "b", "a"]);
});

test("k-core filter is iterated until stable and reports what it removed", () => {
  // u3's only item z is rare; once x (2 uses) drops, u2 falls under 2 too.
  const rows = ["u1,a,1", "u1,b,2", "u2,a,1", "u2,b,2", "u2,x,3", "u3,x,1", "u3,z,2"];
  const p = write("k.csv", "user,item,timestamp\n" + rows.join("\n") + "\n");
  const d = loadInteractions(p, { kCore: 2 });
  assert.deepEqual(d.userIds, ["u1", "u2"]);
  assert.deepEqual(d.itemIds, ["", "a", "b"]);
  assert.deepEqual(d.report.filtered, { users: 1, items: 2, interactions: 3 });
  const loose = loadInteractions(p, { kCore: { user: 2, item: 1 } });
  assert.equal(loose.sequences.length, 3);
  assert.throws(() => loadInteractions(p, { kCore: 9 }), /no interactions left.*lower `kCore`/);
  assert.throws(() => loadInteractions(p, { kCore: -1 }), /`kCore.user` must be a non-negative integer, got -1/);
});

test("CSV errors name file:line and the fix", () => {
  const cases: [string, string, number, RegExp][] = [
    ["user,item,timestamp\nu,a,1\nu,b,yesterday\n", "bad-timestamp", 3, /timestamp "yesterday"/],
    ["user,item,timestamp\nu,a,1\n\nu,b,2\n", "empty-line", 3, /empty line/],
    ["user,item,timestamp\nu,a\n", "wrong-field-count", 2, /2 fields, header has 3/],
    ["user,item,timestamp\n,a,1\n", "empty-id", 2, /empty user id/],
  ];
  cases.forEach(([text, kind, line, re], k) => {
    const p = write(`bad${k}.csv`, text);
    assert.throws(() => loadInteractions(p), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.kind, kind);
      assert.equal(e.line, line);
      assert.ok(e.message.startsWith(`${p}:${line}: `), e.message);
      assert.match(e.message, re);
      return true;
    });
  });
});

test("unknown and missing columns are reported with the header and the fix", () => {
  const extra = write("extra.csv", "user,item,timestamp,rating\nu,a,1,5\n");
  assert.throws(() => loadInteractions(extra), /extra\.csv:1: unknown column "rating".*extraColumns/);
  assert.equal(loadInteractions(extra, { extraColumns: "ignore" }).sequences.length, 1);
  const missing = write("missing.csv", "user,product,timestamp\nu,a,1\n");
  assert.throws(() => loadInteractions(missing), /missing\.csv:1: no column "item" \(columns: user, product, timestamp\)/);
  assert.equal(loadInteractions(missing, { columns: { item: "product" } }).numItems, 1);
});

test("skip mode counts bad CSV rows by kind", () => {
  const p = write("skip.csv", "user,item,timestamp\nu,a,1\nu,b,x\n\nu,c\nv,d,4\n");
  const d = loadInteractions(p, { onBadRow: "skip" });
  assert.deepEqual(d.userIds, ["u", "v"]);
  assert.equal(d.report.skipped, 3);
  assert.deepEqual(d.report.skippedByKind, { "bad-timestamp": 1, "empty-line": 1, "wrong-field-count": 1 });
});

test("TSV files use a TAB delimiter", () => {
  const p = write("log.tsv", "user\titem\ttimestamp\nu\ta,b\t1\n");
  assert.deepEqual(loadInteractions(p).itemIds, ["", "a,b"]);
});

test("splitCsvLine handles quotes and escaped quotes", () => {
  assert.deepEqual(splitCsvLine('a,"b,c","say ""hi""",', ","), ["a", "b,c", 'say "hi"', ""]);
});

function arrowTable(times: number[], timeType: Float64 | TimestampSecond = new Float64()) {
  return new Table({
    user: vectorFromArray(["x", "y", "x", "y"], new Utf8()),
    item: vectorFromArray([7, 8, 8, 9], new Int32()),
    timestamp: vectorFromArray(times, timeType),
  });
}

test("Arrow IPC file and stream load the same dataset", () => {
  const t = arrowTable([20, 5, 10, 6]);
  for (const [name, fmt] of [["log.arrow", "file"], ["log.arrows", "stream"]] as const) {
    const d = loadInteractions(write(name, tableToIPC(t, fmt)));
    assert.deepEqual(d.userIds, ["x", "y"]);
    assert.deepEqual(d.itemIds, ["", "8", "7", "9"]);
    assert.deepEqual(d.sequences.map((s) => Array.from(s)), [[1, 2], [1, 3]]);
    assert.deepEqual(Array.from(d.timestamps![0]!), [10, 20]);
  }
});

test("Arrow Timestamp columns are converted to seconds", () => {
  // arrow-js takes and returns timestamps as epoch milliseconds whatever the unit
  const t = arrowTable([20_000, 5_000, 10_000, 6_000], new TimestampSecond());
  const d = loadInteractions(write("ts.arrow", tableToIPC(t, "file")));
  assert.deepEqual(Array.from(d.timestamps![0]!), [10, 20]);
});

test("Arrow errors name the file and row; unknown column and non-Arrow bytes too", () => {
  const t = arrowTable([1, NaN, 3, 4]);
  const p = write("nan.arrow", tableToIPC(t, "file"));
  assert.throws(() => loadInteractions(p), /nan\.arrow row 2: timestamp "NaN"/);
  assert.equal(loadInteractions(p, { onBadRow: "skip" }).report.skippedByKind["bad-timestamp"], 1);
  const extra = new Table({ user: t.getChild("user")!, item: t.getChild("item")!, timestamp: t.getChild("timestamp")!, score: vectorFromArray([1, 2, 3, 4], new Float64()) });
  assert.throws(() => loadInteractions(write("extra.arrow", tableToIPC(extra, "file"))), /extra\.arrow: unknown column "score"/);
  assert.throws(() => loadInteractions(write("junk.arrow", "not arrow at all")), /junk\.arrow: not an Arrow IPC file or stream/);
});

test("a UTF-8 byte-order mark before the CSV header is ignored", () => {
  const p = write("bom.csv", "\uFEFFuser,item,timestamp\nu,a,1\nu,b,2\n");
  assert.deepEqual(loadInteractions(p).itemIds, ["", "a", "b"]);
});

test("a missing log file is reported as not found, CSV or Arrow", () => {
  for (const name of ["gone.csv", "gone.arrow"]) {
    assert.throws(() => loadInteractions(join(tmp, name)), (e: Error) => e instanceof DataError && e.kind === "not-found" && e.message.includes(`${name}: not found`));
  }
});
