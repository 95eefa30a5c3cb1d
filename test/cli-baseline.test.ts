/**
 * `rl-train baseline` through its plain function `runBaseline` (no yargs) on the real 1,000-user
 * Beauty subset, plus the run-id helpers and the yargs option wiring.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import yargs from "yargs";
import { baselineCommand } from "../src/cli/baseline.ts";
import { runBaseline, type BaselineConfigRecord, type BaselineSummary } from "../src/cli/baseline-run.ts";
import { createRunDir, makeRunId, RECORDED_PACKAGES, runMetadata } from "../src/core/run-id.ts";
import { DEFAULT_METRICS } from "../src/models/metrics.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = path.join(root, "envs/beauty-1k-sasrec.json");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-baseline-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

test("run ids read <UTC date>-<UTC time>-<prefix>-s<seed>; bad parts are rejected", () => {
  assert.equal(makeRunId("baseline", 42, new Date(Date.UTC(2026, 10, 27, 4, 15, 0))), "20261127-041500-baseline-s42");
  assert.equal(makeRunId("ppo", 0, new Date(Date.UTC(2027, 0, 2, 23, 5, 9))), "20270102-230509-ppo-s0");
  assert.match(makeRunId("baseline", 7), /^\d{8}-\d{6}-baseline-s7$/);
  assert.throws(() => makeRunId("Base line", 1), /`prefix`.*"Base line"/);
  assert.throws(() => makeRunId("baseline", 1.5), /`seed`.*1\.5/);
  assert.throws(() => makeRunId("baseline", -1), /`seed`.*-1/);
});

test("createRunDir never reuses a folder: a second run with the same id gets a suffix", () => {
  const out = path.join(tmp, "ids", "nested");
  const a = createRunDir(out, "20261127-041500-baseline-s42");
  const b = createRunDir(out, "20261127-041500-baseline-s42");
  assert.deepEqual(a, { runId: "20261127-041500-baseline-s42", dir: path.join(out, "20261127-041500-baseline-s42") });
  assert.equal(b.runId, "20261127-041500-baseline-s42-2");
  assert.ok(fs.statSync(a.dir).isDirectory() && fs.statSync(b.dir).isDirectory());
});

test("runMetadata records installed package versions, node and the git commit", () => {
  const m = runMetadata();
  assert.deepEqual(Object.keys(m.packages), [...RECORDED_PACKAGES]);
  const installed = (pkg: string) => readJson(path.join(root, "node_modules", pkg, "package.json")).version as string;
  for (const pkg of ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "apache-arrow", "ws", "@xenova/transformers", "yargs", "seedrandom"]) {
    assert.equal(m.packages[pkg], installed(pkg), pkg);
  }
  // Not installed on this offline machine: recorded as null rather than left out.
  assert.equal(m.packages["@tensorflow/tfjs-node-gpu"], fs.existsSync(path.join(root, "node_modules/@tensorflow/tfjs-node-gpu")) ? installed("@tensorflow/tfjs-node-gpu") : null);
  assert.equal(m.node, process.version);
  assert.ok(m.commit === null || /^[0-9a-f]{40}$/.test(m.commit), `commit ${m.commit}`);
});

test("runBaseline trains, writes config.json and summary.json, and prints a table stating its protocol", async () => {
  const out = path.join(tmp, "runs");
  const printed: string[] = [];
  const logged: string[] = [];
  const r = await runBaseline({ env, epochs: 2, seed: 1, backend: "wasm", out, progress: "lines", print: (s) => printed.push(s), log: (s) => logged.push(s) });

  assert.match(r.runId, /^\d{8}-\d{6}-baseline-s1$/);
  assert.equal(r.runDir, path.join(out, r.runId));
  assert.deepEqual(fs.readdirSync(r.runDir).sort(), ["config.json", "summary.json"]);

  const config = readJson(path.join(r.runDir, "config.json")) as BaselineConfigRecord;
  assert.equal(config.command, "baseline");
  assert.equal(config.runId, r.runId);
  assert.equal(config.seed, 1);
  assert.equal(config.env.name, "beauty-1k-sasrec");
  assert.equal(config.env.source, env);
  assert.equal(config.env.model.hiddenSize, 32, "the resolved spec, not just its file name");
  assert.equal(config.env.model.lengthBucketing, true, "defaults filled in");
  assert.equal(config.training.epochs, 2, "--epochs overrides the spec");
  assert.equal(config.training.patience, 5, "the spec's patience is kept");
  assert.deepEqual(config.dataset, { name: "beauty-1k", users: 1000, items: config.dataset.items, excludedUsers: 0, trainInteractions: config.dataset.trainInteractions });
  assert.equal(config.backend.name, "wasm");
  assert.equal(config.trainThreads, 1, "the spec has no gradient shards");
  assert.ok(config.evalThreads >= 1);
  assert.equal(config.provenance.packages["@tensorflow/tfjs"], readJson(path.join(root, "node_modules/@tensorflow/tfjs/package.json")).version);
  assert.equal(config.provenance.node, process.version);
  assert.ok("commit" in config.provenance);

  const summary = readJson(path.join(r.runDir, "summary.json")) as BaselineSummary;
  assert.deepEqual(summary, JSON.parse(JSON.stringify(r.summary)));
  assert.equal(summary.epochsRun, 2);
  assert.ok(summary.bestEpoch === 1 || summary.bestEpoch === 2);
  assert.equal(summary.selectMetric, "NDCG@10");
  assert.equal(summary.history.length, 2);
  assert.ok(summary.history.every((h) => h.loss > 0 && Number.isFinite(h.loss) && h.valid !== undefined));
  assert.equal(summary.valid.metrics["NDCG@10"], Math.max(...summary.history.map((h) => h.valid!["NDCG@10"]!)), "valid metrics are those of the best epoch");
  for (const [split, e] of [["valid", summary.valid], ["test", summary.test]] as const) {
    assert.deepEqual(Object.keys(e.metrics), [...DEFAULT_METRICS]);
    for (const v of Object.values(e.metrics)) assert.ok(v >= 0 && v <= 1);
    const { description, ...protocol } = e.protocol;
    assert.deepEqual(protocol, { dataset: "beauty-1k", split, ranking: "full", usersEvaluated: 1000 });
    assert.match(description, new RegExp(`beauty-1k.*${split}.*full ranking.*1000 users`));
  }

  assert.equal(printed.length, 1);
  assert.equal(printed[0], r.table);
  const lines = r.table.split("\n");
  assert.match(lines[0]!, /best epoch [12] of 2 by validation NDCG@10/);
  assert.match(lines[1]!, /^valid protocol: beauty-1k \/ leave-one-out valid \/ full ranking .* \/ 1000 users$/);
  assert.match(lines[2]!, /^test protocol: +beauty-1k \/ leave-one-out test \/ full ranking .* \/ 1000 users$/);
  assert.deepEqual(lines[3]!.trim().split(/\s+/), ["split", ...DEFAULT_METRICS]);
  assert.deepEqual(lines[4]!.trim().split(/\s+/), ["valid", ...DEFAULT_METRICS.map((k) => summary.valid.metrics[k]!.toFixed(4))]);
  assert.deepEqual(lines[5]!.trim().split(/\s+/), ["test", ...DEFAULT_METRICS.map((k) => summary.test.metrics[k]!.toFixed(4))]);
  assert.ok(lines.at(-1)!.includes(r.runDir));

  // Not a TTY: one line per epoch with its loss and time, after the backend and run lines.
  const epochLines = logged.filter((l) => /^\[baseline\] epoch \d\/2 /.test(l));
  assert.equal(epochLines.length, 2);
  assert.match(epochLines[0]!, /epoch 1\/2 \| loss \d+\.\d{4} \| \d+\.\ds \| valid NDCG@10 0\.\d{4}/);
  assert.ok(logged.some((l) => l.includes("tf backend: wasm")));

  // Same seed, same backend: the same numbers, in a new folder.
  const again = await runBaseline({ env, epochs: 2, seed: 1, backend: "wasm", out, progress: "none", print: () => {}, log: () => {} });
  assert.notEqual(again.runDir, r.runDir);
  assert.deepEqual(again.summary.history.map((h) => [h.loss, h.valid]), summary.history.map((h) => [h.loss, h.valid]));
  assert.deepEqual(again.summary.test.metrics, summary.test.metrics);
});

test("--view trains contrastive views next to the loss and records them; plain and contrastive runs differ", async () => {
  const out = path.join(tmp, "view");
  const quiet = { env, epochs: 1, seed: 2, backend: "wasm" as const, out, progress: "none" as const, print: () => {}, log: () => {} };
  const plain = await runBaseline(quiet);
  let table = "";
  const viewed = await runBaseline({ ...quiet, view: "supervised-positive", print: (t) => void (table = t) });
  assert.deepEqual(viewed.config.view, { op: "supervised-positive", magnitude: 0.2 });
  assert.deepEqual(readJson(path.join(viewed.runDir, "config.json")).view, { op: "supervised-positive", magnitude: 0.2 });
  assert.match(table, /contrastive views `supervised-positive` \(magnitude 0\.2, λ 0\.1, τ 1, cos\)/);
  assert.notEqual(viewed.summary.history[0]!.loss, plain.summary.history[0]!.loss, "the InfoNCE term is part of the training loss");
});

test("bad options are rejected with the option, the value and the fix, before a run folder exists", async () => {
  const out = path.join(tmp, "rejected");
  const quiet = { out, print: () => {}, log: () => {} };
  const cases: Array<[object, RegExp]> = [
    [{ env, epochs: 0 }, /`--epochs` must be an integer >= 1; got 0/],
    [{ env, epochs: Number.NaN }, /`--epochs` must be an integer >= 1; got NaN/],
    [{ env, patience: 1.5 }, /`--patience` must be an integer >= 1; got 1\.5/],
    [{ env, seed: -3 }, /`--seed` must be an integer >= 0; got -3/],
    [{ env, backend: "tpu" }, /`--backend` must be one of auto, gpu, node, wasm, cpu; got "tpu"/],
    [{ env: "" }, /`--env` is required.*envs\/beauty-sasrec\.json/],
    [{ env: path.join(tmp, "missing.json") }, /missing\.json: cannot read/],
    [{ env, out: "" }, /`--out` must be a folder path/],
    [{ env, view: "crop:1.5" }, /`--view` must be op or op:magnitude with magnitude in \(0, 1\].*got "crop:1\.5"/],
    [{ env, view: "blur" }, /unknown view op `blur`; known: dropout-view, supervised-positive, crop/],
  ];
  for (const [opts, message] of cases) {
    await assert.rejects(runBaseline({ ...quiet, ...opts } as unknown as Parameters<typeof runBaseline>[0]), message, JSON.stringify(opts));
  }
  assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0, "no run folder for a rejected run");
});

test("the yargs command shares the run options and rejects an invalid --backend", async () => {
  let seen: Record<string, unknown> | undefined;
  // async: yargs validation failures throw synchronously; this turns them into rejections.
  const parse = async (args: string[]) =>
    yargs(args)
      .command({ ...baselineCommand, handler: (argv: Record<string, unknown>) => void (seen = argv) })
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseAsync();

  await parse(["baseline", "--env", "envs/beauty-sasrec.json", "--epochs", "3", "--patience", "2"]);
  assert.ok(seen);
  assert.deepEqual([seen.env, seen.epochs, seen.patience, seen.seed, seen.backend, seen.out], ["envs/beauty-sasrec.json", 3, 2, 42, "auto", "runs"]);
  await parse(["baseline", "--env", "e.json", "--backend", "cpu", "--seed", "7", "--out", "/tmp/r"]);
  assert.deepEqual([seen.backend, seen.seed, seen.out], ["cpu", 7, "/tmp/r"]);

  await assert.rejects(parse(["baseline", "--env", "e.json", "--backend", "tpu"]), /backend.*"tpu".*auto.*gpu.*node.*wasm.*cpu/s);
  await assert.rejects(parse(["baseline"]), /--env envs\/beauty-sasrec\.json/);
});
