/** Env spec files: the shipped specs load; every kind of mistake names the file, the key path and the value. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { loadAnyEnvSpec } from "../src/env/registry.ts";
import { loadEnvSpec, loadSpecData, RL_DEFAULTS } from "../src/env/spec.ts";
import { SASREC_DEFAULTS } from "../src/models/sasrec.ts";
import { TRAINER_DEFAULTS } from "../src/models/trainer.ts";

/** Repo root, so the test does not depend on the folder it is started from. */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-spec-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

/** Write `spec` (an object, or raw text) to a fresh file under a temp folder; returns its path. */
function specFile(spec: unknown): string {
  const file = path.join(tmp, `spec-${++counter}.json`);
  fs.writeFileSync(file, typeof spec === "string" ? spec : JSON.stringify(spec));
  return file;
}

const minimal = { name: "tiny", dataset: { path: "data/tiny" } };

/** Assert that loading `spec` throws a message naming the file and each `key path` (with its received value). */
function rejects(spec: unknown, ...expected: Array<string | RegExp>): string {
  const file = specFile(spec);
  let message = "";
  assert.throws(() => loadEnvSpec(file), (e: Error) => ((message = e.message), true));
  assert.ok(message.startsWith(`${file}: `), `names the file: ${message}`);
  for (const x of expected) {
    if (typeof x === "string") assert.ok(message.includes(x), `expected ${JSON.stringify(x)} in:\n${message}`);
    else assert.match(message, x);
  }
  return message;
}

test("the shipped Beauty specs load and resolve their data next to the spec", () => {
  const full = loadEnvSpec(path.join(root, "envs/beauty-sasrec.json"));
  assert.equal(full.name, "beauty-sasrec");
  assert.equal(full.dataset.name, "beauty");
  assert.equal(full.dataset.path, path.join(root, "envs/data/beauty"));
  assert.equal(full.source, path.join(root, "envs/beauty-sasrec.json"));
  assert.deepEqual(
    [full.model.hiddenSize, full.model.numBlocks, full.model.maxLen, full.model.dropout, full.training.batchSize],
    [64, 2, 50, 0.5, 256],
  );
  assert.equal(full.rl.ops[0], "identity");

  const duorec = loadEnvSpec(path.join(root, "envs/beauty-duorec.json"));
  assert.deepEqual([duorec.model.loss, duorec.rl.mode, duorec.rl.contrastive.similarity, duorec.rl.ops], ["ce", "contrastive", "cos", ["identity", "dropout-view", "supervised-positive"]]);
  // The converged recipe was measured as beauty-duorec with `--loss sampled-softmax`: the spec must be exactly that.
  const ssm = loadEnvSpec(path.join(root, "envs/beauty-ssm.json"));
  assert.deepEqual([ssm.model.loss, ssm.model.negatives], ["sampled-softmax", 256]);
  const rest = (s: typeof ssm) => ({ ...s, name: "", description: "", source: "", model: { ...s.model, loss: "", negatives: 0 } });
  assert.deepEqual(rest(ssm), rest(duorec));

  const small = loadEnvSpec(path.join(root, "envs/beauty-1k-sasrec.json"));
  assert.equal(small.name, "beauty-1k-sasrec");
  assert.equal(small.model.lengthBucketing, SASREC_DEFAULTS.lengthBucketing, "keys left out take the defaults");
  assert.equal(small.rl.reward.validUsers, 300);
  assert.equal(small.rl.reward.kind, "delta");
  const { dataset, split } = loadSpecData(small);
  assert.equal(dataset.name, "beauty-1k");
  assert.equal(split.train.length, 1000);
  assert.ok(dataset.numItems > 1000);
  assert.equal(split.excludedUsers ?? 0, 0);
});

test("every shipped spec in envs/ loads through the registry, named after its file, with its data present", () => {
  const files = fs.readdirSync(path.join(root, "envs")).filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 10, `expected the shipped specs, found ${files.join(", ")}`);
  for (const f of files) {
    const spec = loadAnyEnvSpec(path.join(root, "envs", f));
    assert.equal(spec.name, path.basename(f, ".json"), `${f}: name`);
    const { dataset } = spec;
    const data = "train" in dataset ? [dataset.train, dataset.test] : [dataset.path];
    for (const d of data) assert.ok(fs.existsSync(d), `${f}: data ${d}`);
  }
});

test("the full Beauty spec's data has the published size (22,363 users, 12,101 items)", () => {
  const { dataset, split } = loadSpecData(loadEnvSpec(path.join(root, "envs/beauty-sasrec.json")));
  assert.equal(split.train.length, 22363);
  assert.equal(dataset.numItems, 12101);
});

test("a minimal spec gets every default, with dataset paths relative to the spec file", () => {
  const file = specFile({ ...minimal, dataset: { path: "data/tiny", titles: "t.tsv", attributes: "../a.json" } });
  const s = loadEnvSpec(file);
  assert.deepEqual(s.model, SASREC_DEFAULTS);
  assert.deepEqual(s.training, TRAINER_DEFAULTS);
  assert.deepEqual(s.rl, RL_DEFAULTS);
  assert.equal(s.dataset.path, path.join(tmp, "data/tiny"));
  assert.equal(s.dataset.titles, path.join(tmp, "t.tsv"));
  assert.equal(s.dataset.attributes, path.join(path.dirname(tmp), "a.json"));
  // A partial reward keeps the defaults of the keys it leaves out.
  const r = loadEnvSpec(specFile({ ...minimal, rl: { reward: { metric: "HR@10" } } })).rl.reward;
  assert.deepEqual(r, { ...RL_DEFAULTS.reward, metric: "HR@10" });
});

test("an unknown key is named with its full path, at any depth", () => {
  rejects({ ...minimal, extra: 1 }, "`extra`: unknown key");
  rejects({ ...minimal, model: { hiddenSiz: 64 } }, "`model.hiddenSiz`: unknown key");
  rejects({ ...minimal, rl: { reward: { scal: 10 } } }, "`rl.reward.scal`: unknown key");
  rejects({ ...minimal, dataset: { path: "x", format: "csv" } }, "`dataset.format`: unknown key");
});

test("a value of the wrong type is named with its key path and the value received", () => {
  rejects({ ...minimal, training: { epochs: "ten" } }, "`training.epochs`", 'got "ten"');
  rejects({ ...minimal, model: { lengthBucketing: "yes" } }, "`model.lengthBucketing`", 'got "yes"');
  rejects({ ...minimal, model: { loss: "mse" } }, "`model.loss`", 'got "mse"');
  rejects({ ...minimal, dataset: { path: 3 } }, "`dataset.path`", "got 3");
  rejects({ name: "no-data" }, "`dataset`", "got nothing");
});

test("an out-of-range value is named with its key path and the value received", () => {
  rejects({ ...minimal, model: { dropout: 1.5 } }, "`model.dropout`", "got 1.5");
  rejects({ ...minimal, model: { maxLen: 1000 } }, "`model.maxLen`", "got 1000");
  rejects({ ...minimal, training: { batchSize: 0 } }, "`training.batchSize`", "got 0");
  rejects({ ...minimal, training: { epochs: 2.5 } }, "`training.epochs`", "got 2.5");
  rejects({ ...minimal, rl: { magnitudeBins: [0.1, 1.5] } }, "`rl.magnitudeBins.1`", "got 1.5");
  rejects({ ...minimal, rl: { reward: { scale: -1 } } }, "`rl.reward.scale`", "got -1");
});

test("every problem in a file is reported at once, one line each", () => {
  const m = rejects(
    { ...minimal, model: { hiddenSiz: 3, dropout: 1.5 }, training: { epochs: "ten" } },
    "`model.hiddenSiz`",
    "`model.dropout`",
    "`training.epochs`",
  );
  assert.equal(m.split("\n").length, 4);
});

test("constraints between keys name the key to change", () => {
  rejects({ ...minimal, model: { hiddenSize: 64, numHeads: 3 } }, "`model.numHeads`", "got 3");
  rejects({ ...minimal, rl: { ops: ["crop", "identity"] } }, "`rl.ops`", "identity", '"crop"');
});

test("rl.contrastive: defaults, the older rl.contrastiveWeight, view ops need contrastive mode and one slot", () => {
  const ok = (spec: unknown) => loadEnvSpec(specFile(spec));
  assert.deepEqual(ok(minimal).rl.contrastive, { weight: 0.1, temperature: 1, similarity: "cos", maskSameTarget: true });
  assert.deepEqual(ok({ ...minimal, rl: { contrastive: { temperature: 0.5, similarity: "dot" } } }).rl.contrastive, { weight: 0.1, temperature: 0.5, similarity: "dot", maskSameTarget: true });
  const old = ok({ ...minimal, rl: { contrastiveWeight: 0.3 } }).rl;
  assert.equal(old.contrastive.weight, 0.3);
  assert.equal("contrastiveWeight" in old, false, "the resolved spec records the new key only");
  rejects({ ...minimal, rl: { contrastiveWeight: 0.3, contrastive: { weight: 0.2 } } }, "`rl.contrastiveWeight`", "both are set (0.3 and 0.2)", "keep only `rl.contrastive.weight`");
  rejects({ ...minimal, rl: { contrastive: { temperature: 0 } } }, "`rl.contrastive.temperature`", "got 0");
  rejects({ ...minimal, rl: { contrastive: { similarity: "l2" } } }, "`rl.contrastive.similarity`", 'got "l2"');
  rejects({ ...minimal, rl: { ops: ["identity", "dropout-view"] } }, "`rl.ops`", "dropout-view", 'need `rl.mode: "contrastive"`', 'got mode "direct"');
  rejects({ ...minimal, rl: { mode: "contrastive", slots: 2, ops: ["identity", "crop", "supervised-positive"] } }, "`rl.slots`", "must be 1; got 2");
  assert.deepEqual(ok({ ...minimal, rl: { mode: "contrastive", ops: ["identity", "dropout-view", "supervised-positive", "crop"] } }).rl.ops, ["identity", "dropout-view", "supervised-positive", "crop"]);
});

test("a missing file or invalid JSON names the file", () => {
  const missing = path.join(tmp, "nope.json");
  assert.throws(() => loadEnvSpec(missing), (e: Error) => e.message.startsWith(`${missing}: cannot read`) && e.message.includes("envs/beauty-sasrec.json"));
  rejects("{ name: tiny", "not valid JSON");
});

test("an empty dataset path is rejected at load, naming the key", () => {
  rejects({ name: "x", dataset: { path: "" } }, "`dataset.path`: must name a file or folder", 'got ""');
  rejects({ name: "x", dataset: { path: "d.txt", titles: "" } }, "`dataset.titles`");
});

test("metric names are checked at load against the metrics module, listing the known ones", () => {
  rejects({ ...minimal, training: { selectMetric: "ndcg@10" } }, "`training.selectMetric`", "HR@5, HR@10, HR@20, NDCG@5, NDCG@10, NDCG@20, MRR", 'got "ndcg@10"');
  rejects({ ...minimal, training: { selectMetric: "NDCG@50" } }, "`training.selectMetric`", 'got "NDCG@50"');
  rejects({ ...minimal, rl: { reward: { metric: "AUC" } } }, "`rl.reward.metric`", "known: HR@k, NDCG@k, MRR@k, MRR", 'got "AUC"');
  rejects({ ...minimal, rl: { reward: { metric: "NDCG@0" } } }, "`rl.reward.metric`", "k must be >= 1");
  // Any cut-off works for the reward: the env asks the evaluator for exactly that metric.
  assert.equal(loadEnvSpec(specFile({ ...minimal, rl: { reward: { metric: "MRR@50" } } })).rl.reward.metric, "MRR@50");
});

test("a spec saved with a UTF-8 byte-order mark loads", () => {
  assert.equal(loadEnvSpec(specFile("\uFEFF" + JSON.stringify(minimal))).name, "tiny");
});

/** A spec next to an S3-Rec file with `lines`; returns the resolved spec. */
function specWithData(lines: string, extra: object = {}, dataset: object = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, "data-"));
  fs.writeFileSync(path.join(dir, "d.txt"), lines);
  const file = path.join(dir, "spec.json");
  fs.writeFileSync(file, JSON.stringify({ name: "d", dataset: { path: "d.txt", ...dataset }, model: { hiddenSize: 8, numHeads: 1, innerSize: 8, maxLen: 5 }, ...extra }));
  return loadEnvSpec(file);
}
const machine = { totalMemory: 16 * 2 ** 30, tfBackend: "wasm" };

test("dataset.onBadRow: bad-row messages name the spec key; \"skip\" loads and logs what was dropped", () => {
  const text = "1 1 2 3\n2 2 x 4\n3 3 4 5\n";
  const strict = specWithData(text);
  assert.throws(() => loadSpecData(strict, machine), (e: Error) => /d\.txt:2: item id "x" is not a positive integer \(fix the line or set "onBadRow": "skip" under `dataset` in .*spec\.json\)$/.test(e.message));
  const logged: string[] = [];
  const { split } = loadSpecData(specWithData(text, {}, { onBadRow: "skip" }), { ...machine, log: (l) => logged.push(l) });
  assert.equal(split.train.length, 2);
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /d\.txt: skipped 1 of 3 rows \(not-an-integer 1\)/);
  rejects({ ...minimal, dataset: { path: "x", onBadRow: "ignore" } }, "`dataset.onBadRow`", 'got "ignore"');
});

test("users with fewer than 3 items are counted in one log line when the split is made", () => {
  const logged: string[] = [];
  const { split } = loadSpecData(specWithData("1 1 2 3\n2 2 3\n3 4\n4 1 2 3 4\n"), { ...machine, log: (l) => logged.push(l) });
  assert.equal(split.train.length, 2);
  assert.deepEqual(logged, ["[augrl] d: 2 of 4 users have fewer than 3 items and are left out (each needs a training item, a validation and a test item)"]);
  const quiet: string[] = [];
  loadSpecData(specWithData("1 1 2 3\n"), { ...machine, log: (l) => quiet.push(l) });
  assert.deepEqual(quiet, []);
});

test("a dataset path that does not exist is named by its spec key at data load", () => {
  const s = specWithData("1 1 2 3\n");
  assert.throws(() => loadSpecData({ ...s, dataset: { ...s.dataset, path: path.join(tmp, "gone.txt") } }, machine), (e: Error) =>
    e.message.startsWith(`${s.source}: \`dataset.path\` ${path.join(tmp, "gone.txt")} not found`));
});

test("a model too large for memory fails at data load naming the spec keys and sizes", () => {
  const wide = specWithData("1 1 2 3\n2 2 3 4\n", { model: { hiddenSize: 20000, numHeads: 1, innerSize: 8, maxLen: 5 } });
  assert.throws(() => loadSpecData(wide, machine), (e: Error) =>
    e.message.startsWith(`${wide.source}: the model would need about `) &&
    e.message.includes("above the limit of 4.3 GB (the wasm backend's 4 GiB heap") &&
    e.message.includes("Lower `model.hiddenSize` (20000)") && !e.message.includes("\n"));
  // 5,000,000 items stored densely by id: the item table, its moments and the scores of a chunk.
  const many = specWithData("1 1 2 3\n2 2 3 5000000\n", { model: { hiddenSize: 64, numHeads: 1 } });
  assert.throws(() => loadSpecData(many, machine), /item table 5,000,002 × 64 float32 = 1\.3 GB.*`dataset\.path` has 5,000,000/);
  // tfjs-node is not bound by the wasm heap: the same spec passes on a machine with the memory for it.
  assert.doesNotThrow(() => loadSpecData(many, { totalMemory: 64 * 2 ** 30, tfBackend: "tensorflow" }));
});
