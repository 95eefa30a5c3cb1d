import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import { chooseThreshold, createIntentEnv, IntentEnv, loadIntentEnvSpec, loadIntentSpecData } from "../src/env/index.ts";
import { selectBackend } from "../src/tf/backend.ts";

const SPEC = "test/fixtures/intent/tiny.json";
const action = (op: number, m = 0.5) => ({ ops: [op], magnitudes: [m] });

/** The tiny spec with `mutate` applied, written to a temp folder (data paths made absolute). */
function specVariant(mutate: (raw: any) => void): ReturnType<typeof loadIntentEnvSpec> {
  return loadIntentEnvSpec(specVariantFile(mutate));
}

/** The tiny spec on the fixture data, changed by `mutate`, written to a temp file; its path. */
function specVariantFile(mutate: (raw: any) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "augrl-intent-env-"));
  const fixtures = fileURLToPath(new URL("./fixtures/intent/", import.meta.url));
  const raw = JSON.parse(readFileSync(SPEC, "utf8"));
  raw.dataset.train = join(fixtures, "train.csv");
  raw.dataset.test = join(fixtures, "test.csv");
  raw.oos.pseudo.path = join(fixtures, "pseudo.csv");
  mutate(raw);
  writeFileSync(join(dir, "spec.json"), JSON.stringify(raw));
  return join(dir, "spec.json");
}

before(async () => {
  await selectBackend("wasm", null);
});

describe("IntentEnv contract", () => {
  const spec = loadIntentEnvSpec(SPEC);

  it("reset gives the first observation; steps train, pay delta rewards at evaluations, never truncate by themselves", async () => {
    const env = await createIntentEnv(spec, { log: null });
    assert.equal(env.kind, "intent");
    assert.deepEqual(env.actionSpace.ops, ["identity", "wordnet-synonym", "word-delete", "typo"]);
    assert.equal(env.observationDim, 7 + 2 * 4);
    assert.equal(env.stepMetrics[0], "accuracy");
    assert.deepEqual(env.episodeMetrics.slice(0, 4), ["accuracy", "inscope_accuracy", "oos_recall", "macro_f1"]);
    await assert.rejects(env.step(action(0)), /call reset\(\{ seed \}\) before step\(\)/);
    const { observation, info } = env.reset({ seed: 1 });
    assert.equal(observation.length, env.observationDim);
    assert.equal(info.seed, "1");
    assert.ok(info.startMetric! >= 0 && info.startMetric! <= 1);
    await assert.rejects(env.step(action(4)), /`action\.ops\[0\]` must index the 4 ops/);
    await assert.rejects(env.step(action(1, 1.5)), /`action\.magnitudes\[0\]` must be in \[0, 1\]; got 1\.5/);
    // 24 train rows / batch 8 = 3 batches per epoch, 2 epochs → horizon 6.
    assert.equal(env.horizon, 6);
    let ret = 0;
    for (let s = 1; s <= env.horizon + 1; s++) {
      const r = await env.step(action(s % 4));
      assert.equal(r.truncated, false);
      assert.equal(r.terminated, false);
      assert.ok(Number.isFinite(r.reward) && Number.isFinite(r.info.trainLoss));
      if (s % 2 === 0 || s === env.horizon) assert.ok(r.info.valid, `evaluated at step ${s}`);
      else assert.equal(r.reward, 0, "delta reward only at evaluated steps");
      if (s <= env.horizon) ret += r.reward;
      assert.equal(r.observation[0], Math.fround(Math.min(1, s / env.horizon)));
      if (s % 4) assert.deepEqual(r.info.ops, [env.actionSpace.ops[s % 4]]);
    }
    const last = (await env.step(action(0))).observation;
    assert.equal(last[7], 1, "previous op one-hot (identity)");
    // The delta rewards of an episode add up to the metric's change (scale 100).
    assert.ok(Number.isFinite(ret));
    const fm = env.finalMetrics();
    for (const k of ["accuracy", "inscope_accuracy", "macro_f1", "oos_threshold"]) assert.ok(Number.isFinite(fm.test[k]!), k);
    assert.ok(fm.test.oos_recall! >= 0 && fm.test.oos_recall! <= 1, "test has out-of-scope rows");
    assert.ok(Number.isNaN(fm.valid.oos_recall!), "validation has none");
    env.dispose();
  });

  it("learns: accuracy after an episode beats the start; augmentation changes training", async () => {
    const env = await createIntentEnv(spec, { log: null });
    const start = env.reset({ seed: 2 }).info.startMetric!;
    for (let s = 0; s < 3 * env.horizon; s++) await env.step(action(0));
    const after = env.finalMetrics().valid.accuracy!;
    assert.ok(after > start, `${start} → ${after}`);
    env.reset({ seed: 2 });
    const plain = (await env.step(action(0))).info.trainLoss;
    env.reset({ seed: 2 });
    const augmented = (await env.step(action(3, 1))).info.trainLoss;
    assert.notEqual(plain, augmented);
    env.dispose();
  });

  it("getState/setState continues exactly: same rewards, losses and observations as without the interruption", async () => {
    const a = await createIntentEnv(spec, { log: null });
    const b = await createIntentEnv(spec, { log: null });
    const plan = [1, 2, 0, 3, 1, 2, 3, 0];
    a.reset({ seed: 7 });
    for (const op of plan.slice(0, 4)) await a.step(action(op));
    const state = structuredClone(a.getState());
    const rest = [];
    for (const op of plan.slice(4)) rest.push(await a.step(action(op)));
    b.reset({ seed: 99 });
    await b.step(action(1));
    const obs = b.setState(state);
    assert.equal(b.steps, 4);
    assert.equal(obs.length, b.observationDim);
    for (const [i, op] of plan.slice(4).entries()) {
      const r = await b.step(action(op));
      assert.equal(r.reward, rest[i]!.reward);
      assert.equal(r.info.trainLoss, rest[i]!.info.trainLoss);
      assert.deepEqual(r.observation, rest[i]!.observation);
    }
    assert.deepEqual(b.finalMetrics(), a.finalMetrics());
    assert.throws(() => b.setState({ ...state, version: 0 }), /intent v0 state, this env is intent v1/);
    a.dispose();
    b.dispose();
  });

  it("same seed, same actions → identical episodes; another seed differs", async () => {
    const env = await createIntentEnv(spec, { log: null });
    const run = async (seed: number) => {
      env.reset({ seed });
      const out = [];
      for (let s = 0; s < env.horizon; s++) out.push((await env.step(action(s % 4, 0.5))).info.trainLoss);
      return out;
    };
    const x = await run(3);
    assert.deepEqual(await run(3), x);
    assert.notDeepEqual(await run(4), x);
    env.dispose();
  });

  it("rolls back a non-finite loss, pays -1 and records the event", async () => {
    const env = await createIntentEnv(spec, { log: null });
    env.reset({ seed: 3 });
    await env.step(action(0));
    await env.step(action(0));
    const before = env.getState().model.weights.out_w!.data.slice();
    const model = (env as unknown as { model: { trainStep: (...a: unknown[]) => number } }).model;
    const original = model.trainStep.bind(model);
    model.trainStep = () => NaN;
    const r = await env.step(action(1));
    assert.equal(r.reward, -1);
    assert.equal(r.info.event, "nan-rollback");
    assert.deepEqual(env.getState().model.weights.out_w!.data, before);
    model.trainStep = original;
    env.dispose();
  });

  it("final reward: 0 before the horizon, the metric (× scale) at it", async () => {
    const spec2 = specVariant((raw) => {
      raw.oos = { label: "NO_NODES_DETECTED", rule: "quantile", quantile: 0.25 };
      raw.rl.reward = { kind: "final", metric: "cross_entropy", evalEvery: 1, scale: 1 };
    });
    const env = await createIntentEnv(spec2, { log: null });
    env.reset({ seed: 1 });
    for (let s = 1; s <= env.horizon; s++) {
      const r = await env.step(action(0));
      if (s < env.horizon) assert.equal(r.reward, 0);
      else assert.equal(r.reward, -r.info.valid!.cross_entropy!, "cross-entropy is a loss: the reward is its negative");
    }
    assert.ok(env.threshold().threshold > 0, "the quantile rule rejects the least confident validation rows");
    env.dispose();
  });

  it("an op with a copies suffix (-xN) trains on N independent augmented copies of the batch, labels kept", async () => {
    const withOps = (ops: string[]) => specVariant((raw) => {
      raw.oos = { label: "NO_NODES_DETECTED", rule: "none" };
      raw.rl.ops = ops;
    });
    const env = await createIntentEnv(withOps(["identity", "word-delete", "word-delete-x3"]), { log: null });
    assert.deepEqual(env.actionSpace.ops, ["identity", "word-delete", "word-delete-x3"]);
    env.reset({ seed: 1 });
    const model = (env as unknown as { model: { trainStep: (texts: string[], labels: number[]) => number } }).model;
    const original = model.trainStep.bind(model);
    const seen: Array<{ texts: string[]; labels: number[] }> = [];
    model.trainStep = (texts, labels) => {
      seen.push({ texts, labels });
      return original(texts, labels);
    };
    await env.step(action(0));
    await env.step(action(1, 0.5));
    await env.step(action(2, 0.5));
    const [plain, one, three] = seen.map((s) => s.texts.length);
    assert.equal(plain, 8);
    assert.equal(one, 16, "the real batch plus one copy");
    assert.equal(three, 32, "the real batch plus three copies");
    const last = seen[2]!;
    const real = last.labels.slice(0, 8);
    for (let c = 1; c <= 3; c++) assert.deepEqual(last.labels.slice(8 * c, 8 * (c + 1)), real, `copy ${c} keeps the labels`);
    const copies = [1, 2, 3].map((c) => last.texts.slice(8 * c, 8 * (c + 1)).join("|"));
    assert.equal(new Set(copies).size, 3, "each copy is augmented independently");
    env.dispose();
    assert.throws(() => withOps(["identity", "word-delete-x0"]), /spec\.json: invalid env spec\n  `rl\.ops`: op "word-delete-x0": the copies suffix -xN needs N in \[1, 64\]/);
    await assert.rejects(createIntentEnv(withOps(["identity", "word-smash-x2"]), { log: null }), /unknown text op "word-smash".*copies suffix/);
  });
});

describe("out-of-scope threshold (validation and pseudo-OOS only)", () => {
  it("pseudo: maximises ½·(validation accepted and correct + pseudo-OOS rejected)", () => {
    const valid = { top: Float32Array.from([0.9, 0.8, 0.6, 0.3]), correct: Uint8Array.from([1, 1, 1, 0]) };
    const pseudo = Float32Array.from([0.2, 0.4, 0.5, 0.7]);
    // t = 0.6: valid 3/4 accepted and correct, pseudo 3/4 rejected → 0.75, the best.
    const fractions = { quantile: 0.05, pseudoReject: 0.95 };
    assert.ok(Math.abs(chooseThreshold("pseudo", fractions, valid, pseudo) - 0.6) < 1e-6);
    assert.equal(chooseThreshold("none", fractions, valid, pseudo), 0);
    assert.ok(Math.abs(chooseThreshold("quantile", { ...fractions, quantile: 0.25 }, valid, pseudo) - 0.6) < 1e-6);
  });

  it("pseudo-quantile: the smallest threshold rejecting the asked fraction of pseudo-OOS, whatever validation says", () => {
    const pseudo = Float32Array.from([0.5, 0.1, 0.3, 0.2, 0.4, 0.9, 0.6, 0.7, 0.8, 0.35]);
    const valid = { top: Float32Array.from([0.95, 0.05]), correct: Uint8Array.from([1, 1]) };
    const at = (pseudoReject: number, v = valid) => chooseThreshold("pseudo-quantile", { quantile: 0.05, pseudoReject }, v, pseudo);
    // Sorted: 0.1 0.2 0.3 0.35 0.4 0.5 0.6 0.7 0.8 0.9; rejecting 8 of 10 needs t > 0.7 → t = 0.8.
    assert.ok(Math.abs(at(0.8) - 0.8) < 1e-6);
    assert.ok(Math.abs(at(0.5) - 0.5) < 1e-6);
    assert.equal([...pseudo].filter((x) => x < at(0.8)).length, 8);
    const other = { top: Float32Array.from([0.2, 0.3, 0.99]), correct: Uint8Array.from([0, 1, 1]) };
    assert.equal(at(0.8, other), at(0.8), "validation rows do not move it");
  });

  it("pseudo-quantile in a spec: needs oos.pseudo, takes pseudoReject, and loads the pseudo sample", () => {
    const resolved = specVariant((raw) => {
      raw.oos = { ...raw.oos, rule: "pseudo-quantile", pseudoReject: 0.9 };
    });
    assert.equal(resolved.oos.rule, "pseudo-quantile");
    assert.equal(resolved.oos.pseudoReject, 0.9);
    assert.ok(loadIntentSpecData(resolved).pseudoOos.length > 0);
    const noPseudo = specVariantFile((raw) => { raw.oos = { rule: "pseudo-quantile" }; });
    assert.throws(() => loadIntentEnvSpec(noPseudo), /`oos\.pseudo`: is required with `oos\.rule: "pseudo-quantile"`/);
    const stray = specVariantFile((raw) => { raw.oos = { ...raw.oos, rule: "pseudo", pseudoReject: 0.9 }; });
    assert.throws(() => loadIntentEnvSpec(stray), /`oos\.pseudoReject`: only applies with `oos\.rule: "pseudo-quantile"`/);
  });

  it("the pseudo-OOS sample is seeded by the dataset seed and never holds a train or validation query", () => {
    const spec = loadIntentEnvSpec("envs/hint3-sofmattress.json");
    const a = loadIntentSpecData(spec);
    const b = loadIntentSpecData(spec);
    assert.equal(a.pseudoOos.length, 500);
    assert.deepEqual(a.pseudoOos, b.pseudoOos);
    const seen = new Set([...a.data.train.texts, ...a.data.valid.texts].map((t) => t.toLowerCase()));
    assert.ok(a.pseudoOos.every((t) => !seen.has(t.toLowerCase())));
    assert.equal(a.data.train.texts.length + a.data.valid.texts.length, 328);
  });

  it("a transformer op without its local model is left out of the action space with a message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "augrl-intent-tf-"));
    const spec = specVariant((raw) => {
      raw.rl.ops = ["identity", "typo", "mlm-substitute"];
      raw.rl.transformer = { modelDir: join(dir, "no-models") };
    });
    const lines: string[] = [];
    const env = await createIntentEnv(spec, { log: (l) => lines.push(l) });
    assert.deepEqual(env.actionSpace.ops, ["identity", "typo"]);
    assert.deepEqual(env.skippedOps.map((s) => s.op), ["mlm-substitute"]);
    assert.match(lines.join("\n"), /`mlm-substitute` is unavailable.*not found in/);
    assert.match(env.describe(), /skipped mlm-substitute/);
    env.dispose();
  });

  it("with the local fixture model the transformer op joins the action space and rewrites utterances", async () => {
    const spec = specVariant((raw) => {
      raw.rl.ops = ["identity", "mlm-substitute"];
      raw.rl.transformer = { modelDir: fileURLToPath(new URL("./fixtures/tiny-bert/", import.meta.url)), mlmModel: "tiny-bert-mlm" };
    });
    const env = await createIntentEnv(spec, { log: null });
    assert.deepEqual(env.actionSpace.ops, ["identity", "mlm-substitute"]);
    env.reset({ seed: 1 });
    const r = await env.step(action(1, 1));
    assert.deepEqual(r.info.ops, ["mlm-substitute"]);
    env.dispose();
  });
});

// The class itself can be built from in-memory data (no files): what a caller with its own data does.
it("IntentEnv refuses an op name it was not given", () => {
  const spec = loadIntentEnvSpec(SPEC);
  const { data } = loadIntentSpecData(spec);
  assert.throws(() => new IntentEnv(spec, data, new Map(), { pseudoOos: ["x"] }), /`rl\.ops` names unknown text op "wordnet-synonym"/);
});

it("createIntentEnvSync builds the same env for specs of text ops, and refuses transformer ops with the fix", async () => {
  const { createIntentEnvSync } = await import("../src/env/index.ts");
  const spec = loadIntentEnvSpec(SPEC);
  const a = createIntentEnvSync(spec);
  const b = await createIntentEnv(spec, { log: null });
  a.reset({ seed: 5 });
  b.reset({ seed: 5 });
  assert.deepEqual((await a.step(action(2))).observation, (await b.step(action(2))).observation);
  a.dispose();
  b.dispose();
  assert.throws(() => createIntentEnvSync({ ...spec, rl: { ...spec.rl, ops: ["identity", "back-translate"] } }), /lists back-translate.*await createIntentEnv/);
});

describe("oos_balanced reward", () => {
  it("scores ½·(valid accepted and correct + pseudo-OOS rejected) at the best threshold, and needs pseudo queries", async () => {
    const balanced = (raw: any) => (raw.rl.reward = { ...raw.rl.reward, metric: "oos_balanced", evalEvery: 1 });
    const env = await createIntentEnv(specVariant(balanced), { log: null });
    assert.deepEqual(env.stepMetrics, ["oos_balanced", "accuracy", "cross_entropy", "macro_f1"]);
    env.reset({ seed: 2 });
    let last = (env as unknown as { stats: { lastMetric: number } }).stats.lastMetric;
    for (let i = 0; i < 3; i++) {
      const r = await env.step(action(0));
      const m = r.info.valid!["oos_balanced"]!;
      // Rejecting (nearly) everything scores about ½, so the best threshold cannot do much worse.
      assert.ok(m > 0.4 && m <= 1, `oos_balanced ${m}`);
      assert.ok(Math.abs(r.reward - 100 * (m - last)) < 1e-9, "the reward is the change of oos_balanced");
      last = m;
    }
    env.dispose();
    const noPseudo = specVariant((raw) => {
      balanced(raw);
      raw.oos = { label: "NO_NODES_DETECTED", rule: "quantile" };
    });
    await assert.rejects(createIntentEnv(noPseudo, { log: null }), /"oos_balanced" needs pseudo-out-of-scope queries/);
  });
});
