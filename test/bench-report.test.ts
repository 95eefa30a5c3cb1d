import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { formatDuration, markdownTable, progressReporter, provenance, writeResult } from "../bench/report.ts";
import {
  bucketBreakdown,
  bucketEdges,
  bucketLabel,
  bucketOf,
  extrapolateEpoch,
  median,
  mdRows,
  paddedLength,
  parseSections,
  SECTION_IDS,
} from "../bench/speed-lib.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-bench-report-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("markdownTable", () => {
  it("renders a header, a separator and one line per row; integers as is, other numbers with 4 decimals", () => {
    const md = markdownTable([
      { op: "crop", ms: 0.25, n: 3 },
      { op: "mask", ms: 1, n: 10 },
    ]);
    assert.equal(md, ["| op | ms | n |", "| --- | --- | --- |", "| crop | 0.2500 | 3 |", "| mask | 1 | 10 |"].join("\n"));
  });

  it("takes the columns from the first row and leaves missing cells empty", () => {
    const md = markdownTable([{ a: 1, b: "x" }, { a: 2 }] as Array<Record<string, string | number>>);
    assert.equal(md.split("\n")[3], "| 2 |  |");
  });

  it("is empty for no rows", () => {
    assert.equal(markdownTable([]), "");
  });
});

describe("writeResult", () => {
  it("creates the directory and writes <name>.json and <name>.md (with a final newline)", () => {
    const dir = path.join(tmp, "nested", "results");
    const json = { benchmark: "t", value: 1.5, rows: [{ a: 1 }] };
    const paths = writeResult("speed-test", json, "# title", dir);
    assert.deepEqual(paths, { json: path.join(dir, "speed-test.json"), md: path.join(dir, "speed-test.md") });
    assert.deepEqual(JSON.parse(fs.readFileSync(paths.json, "utf8")), json);
    assert.equal(fs.readFileSync(paths.md, "utf8"), "# title\n");
  });

  it("overwrites an earlier result and does not double a final newline", () => {
    const first = writeResult("again", { v: 1 }, "old\n", tmp);
    const second = writeResult("again", { v: 2 }, "new\n", tmp);
    assert.deepEqual(first, second);
    assert.deepEqual(JSON.parse(fs.readFileSync(second.json, "utf8")), { v: 2 });
    assert.equal(fs.readFileSync(second.md, "utf8"), "new\n");
  });
});

describe("progressReporter", () => {
  it("counts finished units and extrapolates the time left from the wall time so far", () => {
    const lines: string[] = [];
    let clock = 1000;
    const tick = progressReporter("quality", "cells", 4, 10, (l) => lines.push(l), () => clock);
    assert.deepEqual(lines, ["[quality] 6 of 10 cells kept from earlier runs; 4 to run"]);
    clock += 30_000;
    tick();
    clock += 10_000;
    tick();
    clock += 95_000;
    tick();
    tick();
    assert.deepEqual(lines.slice(1), [
      "[quality] 1/4 cells run, 30s elapsed, ~1m30s left",
      "[quality] 2/4 cells run, 40s elapsed, ~40s left",
      "[quality] 3/4 cells run, 2m15s elapsed, ~45s left",
      "[quality] 4/4 cells run, 2m15s elapsed",
    ]);
  });

  it("says nothing about kept units when every unit is new", () => {
    const lines: string[] = [];
    progressReporter("learn", "episodes", 3, 3, (l) => lines.push(l), () => 0);
    assert.deepEqual(lines, []);
  });

  it("formats durations in s, m+s and h+m without a 60 carried into the next field", () => {
    assert.equal(formatDuration(42.4), "42s");
    assert.equal(formatDuration(59.6), "1m00s");
    assert.equal(formatDuration(95), "1m35s");
    assert.equal(formatDuration(3599.7), "1h00m");
    assert.equal(formatDuration(3700), "1h01m");
  });
});

describe("provenance", () => {
  it("names the machine, node version, commit and date", () => {
    const p = provenance();
    assert.ok(p.cpus >= 1);
    assert.equal(p.node, process.version);
    assert.ok(p.commit.length > 0);
    assert.ok(!Number.isNaN(Date.parse(p.date)));
  });
});

describe("speed helpers", () => {
  it("buckets padded lengths into L≤5, 6–15, 16–30, 31–50", () => {
    const edges = bucketEdges(50);
    assert.deepEqual(edges, [5, 15, 30, 50]);
    assert.deepEqual(edges.map((_, i) => bucketLabel(edges, i)), ["L≤5", "6–15", "16–30", "31–50"]);
    assert.deepEqual([1, 5, 6, 15, 16, 30, 31, 50].map((L) => bucketOf(edges, L)), [0, 0, 1, 1, 2, 2, 3, 3]);
    assert.deepEqual(bucketEdges(20), [5, 15, 20]);
  });

  it("computes the padded length as SASRec does (longest input, or maxLen without bucketing)", () => {
    const seqs = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5, 6, 7, 8)];
    assert.equal(paddedLength(seqs, 50, true), 4);
    assert.equal(paddedLength(seqs, 3, true), 3);
    assert.equal(paddedLength(seqs, 50, false), 50);
    assert.equal(paddedLength([Int32Array.of(9)], 50, true), 1);
  });

  it("breaks an epoch's batch times down by bucket, with shares summing to 100", () => {
    const rows = bucketBreakdown(
      [
        { L: 3, size: 256, ms: 100 },
        { L: 4, size: 256, ms: 100 },
        { L: 40, size: 100, ms: 800 },
      ],
      50,
    );
    assert.deepEqual(rows.map((r) => r.batches), [2, 0, 0, 1]);
    assert.deepEqual(rows.map((r) => r.share_pct), [20, 0, 0, 80]);
    assert.equal(rows[0]!.samples, 512);
    assert.equal(rows[0]!.ms_per_batch, 100);
    assert.equal(rows[3]!.seconds, 0.8);
  });

  it("extrapolates an epoch from its first batches and says whether it did", () => {
    assert.deepEqual(extrapolateEpoch([100, 300], 10), { seconds: 2, extrapolated: true });
    assert.deepEqual(extrapolateEpoch([500, 500], 2), { seconds: 1, extrapolated: false });
    assert.throws(() => extrapolateEpoch([], 3), /no measured batches/);
  });

  it("parses --sections by name or number, in run order", () => {
    assert.deepEqual(parseSections(undefined), [...SECTION_IDS]);
    assert.deepEqual(parseSections("monitor,1"), ["train", "monitor"]);
    assert.throws(() => parseSections("train,gpu"), /unknown section "gpu"/);
  });

  it("takes medians and shortens numbers for tables", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.deepEqual(mdRows([{ a: 1234.56, b: 12.345, c: 0.12345, d: 7, e: null }]), [{ a: "1235", b: "12.3", c: "0.123", d: 7, e: "" }]);
  });
});

describe("bench/speed.ts runner", () => {
  it("parses flags only when asked: importing the CLI module runs nothing", async () => {
    const { parseSpeedArgs } = await import("../bench/speed.ts");
    const { opts, output } = parseSpeedArgs(["--sections", "ops,4", "--no-full-padding", "--train-threads", "2", "--name", "x"]);
    assert.deepEqual(opts.sections, ["ops", "recorder"]);
    assert.equal(opts.fullPadding, false);
    assert.equal(opts.trainThreads, 2);
    assert.deepEqual(output, { name: "x", outDir: "bench/results" });
    assert.throws(() => parseSpeedArgs(["--eval-repeats", "0"]), /`--eval-repeats` must be an integer >= 1; got "0"/);
    const intent = parseSpeedArgs(["--sections", "7", "--intent-envs", "envs/a.json, envs/b.json"]).opts;
    assert.deepEqual(intent.sections, ["intent"]);
    assert.deepEqual(intent.intentEnvs, ["envs/a.json", "envs/b.json"]);
  });

  it("records a failing section's error and still runs the others", () => {
    const out = path.join(tmp, "speed-run");
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "bench/speed.ts", "--sections", "eval,recorder", "--env", path.join(tmp, "missing-env.json"), "--backend", "cpu", "--recorder-rows", "100", "--out-dir", out],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    const json = JSON.parse(fs.readFileSync(path.join(out, "speed.json"), "utf8"));
    assert.equal(json.status, "finished");
    assert.equal(json.sections.eval.status, "error");
    assert.match(json.sections.eval.error, /missing-env\.json/);
    assert.equal(json.sections.recorder.status, "ok");
    assert.equal(json.sections.recorder.result.results[0].rows_per_batch, 64);
    assert.equal(json.sections.rl, undefined, "sections not asked for are not run");
    assert.equal(json.load.start.loadavg.length, 3);
    assert.match(r.stdout, /## 4\. Arrow recorder throughput/);
    assert.match(fs.readFileSync(path.join(out, "speed.md"), "utf8"), /\*\*Error:\*\*/);
  });
});
