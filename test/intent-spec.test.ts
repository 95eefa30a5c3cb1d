import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { loadIntentEnvSpec, loadIntentSpecData, specKind } from "../src/env/index.ts";

const dir = mkdtempSync(join(tmpdir(), "augrl-intent-spec-"));
const base = { kind: "intent", name: "t", dataset: { train: "train.csv", test: "test.csv" } };
function spec(name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
}

test("every shipped intent spec loads, resolves paths next to the spec and its data", () => {
  for (const [file, train, valid, intents] of [
    ["envs/hint3-sofmattress.json", 264, 64, 21],
    ["envs/hint3-curekart.json", 0, 0, 28],
    ["envs/banking77-10shot.json", 770, 385, 77],
    ["envs/banking77-30shot.json", 2310, 385, 77],
  ] as const) {
    assert.equal(specKind(file), "intent");
    const s = loadIntentEnvSpec(file);
    assert.equal(s.kind, "intent");
    assert.equal(s.dataset.train, resolve("envs", s.dataset.train.slice(resolve("envs").length + 1)));
    assert.equal(s.rl.ops[0], "identity");
    const { data } = loadIntentSpecData(s);
    assert.equal(data.labelNames.length, intents, file);
    if (train) assert.equal(data.train.texts.length, train, file);
    if (valid) assert.equal(data.valid.texts.length, valid, file);
  }
  assert.equal(specKind("envs/beauty-sasrec.json"), "recommender");
  assert.equal(loadIntentEnvSpec("envs/banking77-full.json").oos.rule, "none");
});

test("defaults fill every key; the learning rate lives in training and reaches the model", () => {
  const s = loadIntentEnvSpec(spec("min.json", base));
  assert.equal(s.dataset.train, join(dir, "train.csv"));
  assert.equal(s.dataset.seed, 1);
  assert.equal(s.dataset.validFraction, 0.2);
  assert.equal(s.oos.rule, "none");
  assert.equal(s.model.arch, "bag");
  assert.equal(s.model.learningRate, s.training.learningRate);
  assert.equal(s.rl.budget.epochs, s.training.epochs);
  assert.deepEqual(s.rl.reward, { kind: "delta", metric: "accuracy", validRows: 2000, evalEvery: 1, scale: 100 });
  assert.equal(s.rl.mode, "append");
});

test("validation errors name the file and the key path, with the value received", () => {
  const cases: [string, unknown, RegExp][] = [
    ["nokind.json", { ...base, kind: undefined }, /nokind\.json: invalid env spec\n {2}`kind`: .*got nothing/],
    ["kind.json", { ...base, kind: "recsys" }, /kind\.json: invalid env spec\n {2}`kind`/],
    ["unknown.json", { ...base, rl: { opz: [] } }, /`rl\.opz`: unknown key/],
    ["shots.json", { ...base, dataset: { ...base.dataset, shots: 0 } }, /`dataset\.shots`: .*got 0/],
    ["metric.json", { ...base, rl: { reward: { metric: "NDCG@10" } } }, /`rl\.reward\.metric`: .*got "NDCG@10"/],
    ["first.json", { ...base, rl: { ops: ["typo", "identity"] } }, /`rl\.ops`: the first op must be "identity".*got "typo"/],
    ["twice.json", { ...base, rl: { ops: ["identity", "typo", "typo"] } }, /`rl\.ops`: lists "typo" twice/],
    ["pseudo.json", { ...base, oos: { rule: "pseudo" } }, /`oos\.pseudo`: is required/],
    ["perlabel.json", { ...base, dataset: { ...base.dataset, validPerLabel: 3 } }, /`dataset\.validPerLabel`: only applies with `dataset\.shots`/],
    ["ngram.json", { ...base, model: { minN: 5, maxN: 3 } }, /`model\.minN`: must be <= model\.maxN \(3\); got 5/],
    ["arch.json", { ...base, model: { arch: "lstm" } }, /`model\.arch`: .*got "lstm"/],
  ];
  for (const [name, value, re] of cases) assert.throws(() => loadIntentEnvSpec(spec(name, value)), re, name);
  assert.throws(() => specKind(spec("kind2.json", { ...base, kind: "recsys" })), /`kind`: must be "intent" or absent/);
  assert.throws(() => loadIntentEnvSpec(join(dir, "missing.json")), /missing\.json: cannot read env spec/);
});

test("a spec whose text op is unknown fails when the env is built, listing the known ops", async () => {
  const { createIntentEnv } = await import("../src/env/index.ts");
  const raw = JSON.parse((await import("node:fs")).readFileSync("test/fixtures/intent/tiny.json", "utf8"));
  for (const k of ["train", "test"]) raw.dataset[k] = resolve("test/fixtures/intent", raw.dataset[k]);
  raw.oos.pseudo.path = resolve("test/fixtures/intent/pseudo.csv");
  raw.rl.ops = ["identity", "paraphrase"];
  await assert.rejects(createIntentEnv(loadIntentEnvSpec(spec("op.json", raw)), { log: null }), /`rl\.ops` names unknown text op "paraphrase"; known: identity, synonym, word-delete/);
});
