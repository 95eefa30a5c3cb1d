/** `rl-train augment` through its plain function `runAugment` (no yargs), on real Beauty users. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runAugment } from "../src/cli/augment-run.ts";
import { batchOpNames, createBatchOps } from "../src/augment/registry.ts";
import { buildOpContext } from "../src/augment/opcontext.ts";
import { validateBatch } from "../src/augment/batch.ts";
import { withContext } from "../src/augment/context.ts";
import { Rng } from "../src/core/rng.ts";
import { beautySample, syntheticDataset } from "./augment-fixtures.ts";

const beauty = beautySample(400);

test("--list --json prints every op with name, family and magnitude", async () => {
  let printed = "";
  const r = await runAugment({ list: true, json: true }, (s) => (printed = s));
  const ops = JSON.parse(printed) as Array<{ name: string; family: string; magnitude: string }>;
  assert.equal(r.kind, "list");
  for (const name of [...batchOpNames, "synonym"]) assert.ok(ops.some((o) => o.name === name), `${name} missing`);
  for (const o of ops) assert.ok(o.name && o.family && o.magnitude);
});

test("--list prints a table naming each op and what its magnitude means", async () => {
  let printed = "";
  await runAugment({ list: true }, (s) => (printed = s));
  assert.match(printed, /^crop\s+sequence\s+fraction of items removed/m);
  assert.match(printed, /^label-smoothing\s+label\s+epsilon/m);
});

test("--op crop shows before/after with titles for n users, deterministic per seed", async () => {
  let printed = "";
  const opts = { op: "crop", magnitude: 0.3, split: beauty.split, n: 5, seed: 1 };
  const r = await runAugment(opts, (s) => (printed = s));
  assert.equal(r.kind, "batch");
  if (r.kind !== "batch") return;
  assert.equal(r.samples.length, 5);
  assert.equal((printed.match(/^user \d+$/gm) ?? []).length, 5);
  assert.match(printed, /before\s+0\s+\d+ \S/);
  for (const s of r.samples) {
    assert.ok(s.after.items.length <= s.before.items.length);
    const full = beauty.dataset.catalogue!.titles![s.before.items[0]!]!;
    assert.ok(full.length > 0 && full.startsWith(s.before.titles[0]!.replace(/…$/, "")), `title of item ${s.before.items[0]}`);
  }
  const again = await runAugment(opts, () => {});
  assert.deepEqual(again, r);
  const other = await runAugment({ ...opts, seed: 2 }, () => {});
  assert.notDeepEqual(other.kind === "batch" && other.samples.map((s) => s.user), r.samples.map((s) => s.user));
});

test("--op mask shows the mask token and the kept targets; label and context ops show their fields", async () => {
  let printed = "";
  await runAugment({ op: "mask", magnitude: 1, split: beauty.split, n: 3, seed: 1 }, (s) => (printed = s));
  assert.match(printed, /\[MASK\]/);
  assert.match(printed, /=> target \d+/);
  await runAugment({ op: "negative-hardness", magnitude: 1, split: beauty.split, n: 2 }, (s) => (printed = s));
  assert.match(printed, /neg=\d+/);
  await runAugment({ op: "title-token-mask", magnitude: 1, split: beauty.split, n: 2 }, (s) => (printed = s));
  assert.match(printed, /tokens="\[MASK\]/);
  const r = await runAugment({ op: "label-smoothing", magnitude: 0.5, split: beauty.split, n: 1, json: true }, (s) => (printed = s));
  assert.equal(JSON.parse(printed).labelSmoothing, 0.1);
  assert.equal(r.kind === "batch" && r.labelSmoothing, 0.1);
});

test("a dataset without split is split leave-one-out", async () => {
  const { dataset } = syntheticDataset();
  const r = await runAugment({ op: "reorder", magnitude: 1, dataset, n: 3 }, () => {});
  assert.equal(r.kind === "batch" && r.samples.length, 3);
});

test("text ops run on --text", async () => {
  let printed = "";
  const r = await runAugment({ op: "synonym", text: "red running shoes for women", magnitude: 1, n: 2 }, (s) => (printed = s));
  assert.equal(r.kind, "text");
  assert.match(printed, /before: red running shoes for women/);
  assert.equal((printed.match(/after #\d: /g) ?? []).length, 2);
});

test("bad input fails loudly with the fix", async () => {
  await assert.rejects(runAugment({ op: "cropp", split: beauty.split }, () => {}), /unknown augmentation op `cropp`; known ops: crop, mask/);
  await assert.rejects(runAugment({}, () => {}), /`--op` is required unless `--list`/);
  await assert.rejects(runAugment({ op: "crop", magnitude: 2, split: beauty.split }, () => {}), /`--magnitude` must be in \[0, 1\], got 2/);
  await assert.rejects(runAugment({ op: "crop" }, () => {}), /batch ops need data: pass `--env/);
  await assert.rejects(runAugment({ op: "synonym" }, () => {}), /pass `--text/);
});

test("every batch op gives valid batches on 256 real Beauty users at m = 0.5 and 1", () => {
  const ctx = buildOpContext({ numItems: beauty.dataset.numItems, train: beauty.split.train, catalogue: beauty.dataset.catalogue });
  const users = Int32Array.from({ length: 256 }, (_, i) => i);
  const batch = withContext({ users, seqs: Array.from(users, (u) => beauty.split.train[u]!), numItems: beauty.dataset.numItems }, ctx);
  const limits = { numAttributes: ctx.numAttributes, titleVocabSize: ctx.titleVocab!.size };
  for (const op of createBatchOps(ctx).values()) {
    for (const m of [0.5, 1]) assert.deepEqual(validateBatch(op.apply(batch, m, new Rng(1, op.name)), limits), [], `${op.name} m=${m}`);
  }
});

test("the yargs command module parses flags and hands them to runAugment", async (t) => {
  const { default: yargs } = await import("yargs");
  const { augmentCommand } = await import("../src/cli/augment.ts");
  const logged: string[] = [];
  t.mock.method(console, "log", (s: string) => logged.push(s));
  const cli = () => yargs().scriptName("rl-train").command(augmentCommand).strict().exitProcess(false);
  await cli().parseAsync(["augment", "--list", "--json"]);
  const ops = JSON.parse(logged.at(-1)!) as Array<{ name: string }>;
  assert.ok(ops.some((o) => o.name === "crop") && ops.some((o) => o.name === "synonym"));
  await cli().parseAsync(["augment", "--op", "word-delete", "--text", "red running shoes for women", "--magnitude", "0.5", "--n", "2"]);
  assert.match(logged.at(-1)!, /before: red running shoes for women\n\s+after #1: /);
  t.mock.method(console, "error", () => {});
  await assert.rejects(cli().fail(false).parseAsync(["augment"]), /`--op` is required unless `--list` is given/);
});
