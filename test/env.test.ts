import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { AugmentEnv, TimeLimit, loadEnvSpec, loadSpecData } from "../src/env/index.ts";
import { runExperiment, resumeExperiment } from "../src/cli/experiment.ts";
import { compareRuns, exportPolicy } from "../src/cli/analysis.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import type { StepRow } from "../src/record/schema.ts";
import { selectBackend } from "../src/tf/backend.ts";

const SPEC = "test/fixtures/env/tiny.json";
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-env-"));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
const tmp = () => fs.mkdtempSync(path.join(tmpRoot, "t-"));

/** Step rows without the wall-clock column (the only one allowed to differ between runs). */
function stepsOf(runDir: string) {
  return readArrowStream<StepRow>(path.join(runDir, "steps.arrows")).rows.map((r) => {
    const { wall_ms: _w, ...rest } = r;
    return { ...rest, observation: Array.from(r.observation), ops: [...r.ops], magnitudes: [...r.magnitudes] };
  });
}

before(async () => {
  await selectBackend("wasm", null);
});

describe("AugmentEnv contract", () => {
  const spec = loadEnvSpec(SPEC);
  const { split } = loadSpecData(spec);

  it("needs reset before step, validates actions, and ends truncated at the budget (TimeLimit)", async () => {
    const env = new TimeLimit(new AugmentEnv(spec, split));
    await assert.rejects(env.step({ ops: [0], magnitudes: [0] }), /call reset\(\{ seed \}\) before step\(\)/);
    const { observation: obs, info } = env.reset({ seed: 1 });
    assert.equal(info.seed, "1");
    assert.ok(Number.isFinite(info.startMetric));
    assert.equal(obs.length, env.observationDim);
    assert.equal(obs[0], 0);
    await assert.rejects(env.step({ ops: [9], magnitudes: [0.2] }), /action\.ops\[0\]/);
    await assert.rejects(env.step({ ops: [1], magnitudes: [1.5] }), /action\.magnitudes\[0\]/);
    let res;
    let n = 0;
    do {
      res = await env.step({ ops: [n % 5], magnitudes: [0.2] });
      n++;
      assert.equal(res.terminated, false);
      assert.ok(Number.isFinite(res.reward));
      assert.ok(res.observation[0]! > 0 && res.observation[0]! <= 1);
      if (n % spec.rl.reward.evalEvery === 0) assert.ok(res.info.valid, "evaluated every evalEvery steps");
      else if (!res.truncated) assert.equal(res.reward, 0, "delta reward is paid only at evaluated steps");
    } while (!res.truncated);
    assert.equal(n, env.horizon);
    await assert.rejects(env.step({ ops: [0], magnitudes: [0] }), /episode ended after \d+ steps/);
    env.dispose();
  });

  it("without TimeLimit the env never truncates: the budget is the wrapper's", async () => {
    const env = new AugmentEnv(spec, split);
    env.reset({ seed: 1 });
    for (let i = 0; i < env.horizon + 1; i++) assert.equal((await env.step({ ops: [0], magnitudes: [0] })).truncated, false);
    assert.equal(env.steps, env.horizon + 1);
    env.dispose();
  });

  it("rolls back a non-finite loss, pays -1 and records the event", async () => {
    const env = new AugmentEnv(spec, split);
    env.reset({ seed: 3 });
    await env.step({ ops: [1], magnitudes: [0.2] });
    await env.step({ ops: [1], magnitudes: [0.2] }); // evaluated: the good state is taken here
    const model = (env as unknown as { model: { trainStep: (b: unknown) => number; getState(): { weights: Record<string, { data: Float32Array }> } } }).model;
    const good = model.getState();
    const real = model.trainStep.bind(model);
    model.trainStep = (b) => {
      real(b);
      return NaN;
    };
    const res = await env.step({ ops: [2], magnitudes: [0.5] });
    assert.equal(res.info.event, "nan-rollback");
    assert.equal(res.reward, -1);
    const after = model.getState();
    for (const k of Object.keys(good.weights)) assert.deepEqual(after.weights[k]!.data, good.weights[k]!.data, `weight ${k} restored`);
    env.dispose();
  });

  it("same seed, same actions → identical observations and rewards", async () => {
    const play = async () => {
      const env = new AugmentEnv(spec, split);
      const out: number[][] = [Array.from(env.reset({ seed: "s" }).observation)];
      for (let i = 0; i < 4; i++) {
        const r = await env.step({ ops: [(i * 3) % 5], magnitudes: [0.5] });
        out.push([...Array.from(r.observation), r.reward]);
      }
      env.dispose();
      return out;
    };
    assert.deepEqual(await play(), await play());
  });

  it("rl.mode 'append' trains on the real batch plus its augmented copy (identity: the real batch alone)", async () => {
    const seen: { seqs: Int32Array[]; users: Int32Array; targets?: Int32Array[] }[] = [];
    const play = async (mode: "direct" | "append", ops: number[]) => {
      const env = new AugmentEnv({ ...spec, rl: { ...spec.rl, mode } }, split);
      env.reset({ seed: 5 });
      const model = (env as unknown as { model: { trainStep: (b: unknown) => number } }).model;
      const real = model.trainStep.bind(model);
      model.trainStep = (b) => {
        seen.push(b as (typeof seen)[number]);
        return real(b);
      };
      for (const op of ops) await env.step({ ops: [op], magnitudes: [0.5] });
      env.dispose();
    };
    await play("direct", [0, 2]);
    const [plain, masked] = seen.splice(0);
    await play("append", [0, 2]);
    const [identity, appended] = seen;
    assert.deepEqual(identity!.seqs, plain!.seqs, "identity adds nothing");
    const B = masked!.seqs.length; // the second batch of the same seed in both modes
    assert.equal(appended!.seqs.length, 2 * B);
    assert.deepEqual(Array.from(appended!.users), [...masked!.users, ...masked!.users]);
    // Rows of the second step: the real batch first (default targets), then the masked copy.
    const realSecond = appended!.seqs.slice(0, B);
    assert.ok(realSecond.every((q) => !q.includes(split.dataset.numItems + 1)), "the real rows are not masked");
    assert.ok(appended!.seqs.slice(B).some((q) => q.includes(split.dataset.numItems + 1)), "the copy is masked");
    assert.ok(masked!.seqs.some((q) => q.includes(split.dataset.numItems + 1)));
    for (let b = 0; b < B; b++) assert.deepEqual(appended!.targets![b], realSecond[b]!.subarray(1), `row ${b} keeps its next-item targets`);
  });

  it("rl.mode 'contrastive': identity is a plain step; an op trains on the real batch with two augmented views", async () => {
    type Batch = { seqs: Int32Array[]; users: Int32Array };
    type Views = { first: "anchor" | Int32Array[]; second: Int32Array[] };
    const plainCalls: Batch[] = [];
    const contrastCalls: { batch: Batch; views: Views; weight: number }[] = [];
    const env = new AugmentEnv({ ...spec, rl: { ...spec.rl, mode: "contrastive", contrastive: { ...spec.rl.contrastive, weight: 0.3 } } }, split);
    env.reset({ seed: 5 });
    type Opts = { weight: number };
    const model = (env as unknown as { model: { trainStep: (b: unknown) => number; trainStepContrastive: (b: unknown, v: unknown, o: Opts) => number } }).model;
    const realStep = model.trainStep.bind(model);
    const realContrast = model.trainStepContrastive.bind(model);
    model.trainStep = (b) => (plainCalls.push(b as Batch), realStep(b));
    model.trainStepContrastive = (b, v, o) => (contrastCalls.push({ batch: b as Batch, views: v as Views, weight: o.weight }), realContrast(b, v, o));
    const first = await env.step({ ops: [0], magnitudes: [0.5] });
    const second = await env.step({ ops: [2], magnitudes: [0.5] });
    env.dispose();
    assert.equal(plainCalls.length, spec.rl.batchesPerStep, "identity: plain steps only");
    assert.equal(contrastCalls.length, spec.rl.batchesPerStep, "mask: contrastive steps only");
    assert.ok(Number.isFinite(first.info.trainLoss) && Number.isFinite(second.info.trainLoss));
    const mask = split.dataset.numItems + 1;
    for (const { batch, views, weight } of contrastCalls) {
      assert.equal(weight, 0.3);
      assert.ok(batch.seqs.every((q) => !q.includes(mask)), "the recommendation loss sees the real batch");
      assert.ok(views.first !== "anchor");
      for (const v of [views.first, views.second]) {
        assert.equal(v.length, batch.seqs.length, "one view per user");
        assert.ok(v.some((q) => q.includes(mask)), "both views are masked");
      }
      assert.notDeepEqual(views.first, views.second, "the two views are independent draws");
    }
  });

  it("view ops: dropout-view contrasts the recommendation pass with the same inputs; supervised-positive with a same-next-item prefix", async () => {
    type Batch = { seqs: Int32Array[]; users: Int32Array };
    const calls: { batch: Batch; views: { first: "anchor" | Int32Array[]; second: Int32Array[] } }[] = [];
    const env = new AugmentEnv({ ...spec, rl: { ...spec.rl, mode: "contrastive", ops: ["identity", "dropout-view", "supervised-positive"] } }, split);
    env.reset({ seed: 6 });
    const model = (env as unknown as { model: { trainStepContrastive: (b: unknown, v: unknown, o: unknown) => number } }).model;
    const real = model.trainStepContrastive.bind(model);
    model.trainStepContrastive = (b, v, o) => (calls.push({ batch: b as Batch, views: v as (typeof calls)[number]["views"] }), real(b, v, o));
    const a = await env.step({ ops: [1], magnitudes: [0.1] });
    const b = await env.step({ ops: [2], magnitudes: [0.1] });
    env.dispose();
    assert.ok(Number.isFinite(a.info.trainLoss) && Number.isFinite(b.info.trainLoss));
    assert.deepEqual(a.info.ops, ["dropout-view"]);
    const k = spec.rl.batchesPerStep;
    for (const { batch, views } of calls.slice(0, k)) {
      assert.equal(views.first, "anchor");
      views.second.forEach((s, i) => assert.deepEqual(Array.from(s), Array.from(batch.seqs[i]!.subarray(0, batch.seqs[i]!.length - 1)), "dropout-view: the user's own inputs"));
    }
    let others = 0;
    for (const { batch, views } of calls.slice(k)) {
      assert.equal(views.first, "anchor");
      views.second.forEach((s, i) => {
        const own = batch.seqs[i]!;
        const target = own[own.length - 1]!;
        const ownInputs = own.subarray(0, own.length - 1);
        if (Array.from(s).join() === Array.from(ownInputs).join()) return; // fallback (or the same history)
        others++;
        // A prefix of some training sequence that is followed by the same item.
        const found = split.train.some((t) => {
          for (let p = 1; p < t.length; p++) if (t[p] === target && t.subarray(Math.max(0, p - spec.model.maxLen), p).join() === s.join()) return true;
          return false;
        });
        assert.ok(found, `row ${i}: ${Array.from(s)} is no prefix followed by ${target}`);
      });
    }
    assert.ok(others > 0, "some users got another user's prefix");
  });

  it("training.lossNormalization 'epoch' divides every batch loss by the epoch's mean positions", async () => {
    type Batch = { seqs: Int32Array[]; lossDenominator?: number };
    const firstSteps = async (norm: "batch" | "epoch") => {
      const env = new AugmentEnv({ ...spec, training: { ...spec.training, lossNormalization: norm } }, split);
      env.reset({ seed: 3 });
      const model = (env as unknown as { model: { trainStep: (b: unknown) => number } }).model;
      const real = model.trainStep.bind(model);
      const batches: Batch[] = [];
      model.trainStep = (b) => (batches.push(b as Batch), real(b));
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push((await env.step({ ops: [0], magnitudes: [0] })).info.trainLoss);
      const epoch = (env as unknown as { epochBatches: Batch[] }).epochBatches;
      env.dispose();
      return { losses, batches, epoch };
    };
    const perBatch = await firstSteps("batch");
    const perEpoch = await firstSteps("epoch");
    const positions = (b: Batch) => b.seqs.reduce((n, q) => n + q.length - 1, 0);
    const mean = perEpoch.epoch.reduce((n, b) => n + positions(b), 0) / perEpoch.epoch.length;
    // The first step trains the same batch from the same weights in both modes, so the summed
    // loss is the same and only the denominator differs: positions of the batch vs epoch mean.
    const b0 = perEpoch.batches[0]!;
    assert.equal(b0.lossDenominator, mean, "every batch carries the epoch's mean positions");
    assert.deepEqual(b0.seqs, perBatch.batches[0]!.seqs, "same first batch");
    assert.equal(perBatch.batches[0]!.lossDenominator, undefined);
    const sumBatch = perBatch.losses[0]! * positions(b0);
    const sumEpoch = perEpoch.losses[0]! * mean;
    assert.ok(Math.abs(sumBatch - sumEpoch) < 1e-5 * Math.abs(sumBatch), `summed loss ${sumBatch} vs ${sumEpoch}`);
    assert.notEqual(positions(b0), mean, "a bucketed batch's positions differ from the mean, so the test can fail");
  });

  it("honours training.bucketBatches: false (random batches, as rl-train baseline)", async () => {
    const lengthsOfFirstBatch = (bucket: boolean) => {
      const env = new AugmentEnv({ ...spec, training: { ...spec.training, bucketBatches: bucket } }, split);
      env.reset({ seed: 4 });
      (env as unknown as { nextBatch(): unknown }).nextBatch();
      const first = (env as unknown as { epochBatches: { seqs: Int32Array[] }[] }).epochBatches[0]!;
      env.dispose();
      return first.seqs.map((q) => q.length);
    };
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    assert.ok(spread(lengthsOfFirstBatch(false)) > spread(lengthsOfFirstBatch(true)), "random batches mix lengths that buckets group");
  });
});

describe("rl-train run: logs, reproducibility, resume, export", () => {
  it("two runs with the same seed write identical steps.arrows (wall clock aside)", async () => {
    const a = tmp();
    const b = tmp();
    const opts = { env: SPEC, agent: "policies/ppo.json", episodes: 1, seed: 5, backend: "wasm" as const, runId: "same", log: null };
    await runExperiment({ ...opts, out: a });
    await runExperiment({ ...opts, out: b });
    const sa = stepsOf(path.join(a, "same"));
    assert.ok(sa.length > 0);
    assert.deepEqual(sa, stepsOf(path.join(b, "same")));
  });

  it("with gradient shards, 1 and 2 training threads write identical steps.arrows; config.json records the threads", async () => {
    const dir = tmp();
    const raw = JSON.parse(fs.readFileSync(SPEC, "utf8"));
    raw.dataset.path = path.resolve(path.dirname(SPEC), raw.dataset.path);
    raw.model.gradientShards = 2;
    const spec = path.join(dir, "sharded.json");
    fs.writeFileSync(spec, JSON.stringify(raw));
    const opts = { env: spec, agent: "policies/reinforce.json", episodes: 1, seed: 2, backend: "wasm" as const, runId: "sharded", log: null, evalThreads: 1 };
    await runExperiment({ ...opts, out: path.join(dir, "one"), trainThreads: 1 });
    await runExperiment({ ...opts, out: path.join(dir, "two"), trainThreads: 2 });
    const one = stepsOf(path.join(dir, "one", "sharded"));
    assert.ok(one.length > 0);
    assert.deepEqual(stepsOf(path.join(dir, "two", "sharded")), one);
    const threadsOf = (run: string) => JSON.parse(fs.readFileSync(path.join(dir, run, "sharded", "config.json"), "utf8")).config.threads;
    assert.deepEqual(threadsOf("one"), { eval: 1, train: 1 });
    assert.deepEqual(threadsOf("two"), { eval: 1, train: 2 });
  });

  it("SIGKILL between checkpoints, then resume, equals an uninterrupted run", async () => {
    const out = tmp();
    const full = await runExperiment({
      env: SPEC, agent: "policies/reinforce.json", episodes: 2, seed: 7, out, runId: "full", backend: "wasm", checkpointEvery: 2, log: null,
    });
    const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/env/run-child.ts", out, "killed", "3"], { encoding: "utf8" });
    assert.equal(child.signal, "SIGKILL", `child should have been killed; stderr: ${child.stderr}`);
    const killedDir = path.join(out, "killed");
    assert.ok(fs.existsSync(path.join(killedDir, "checkpoints/latest.json")));
    assert.ok(stepsOf(killedDir).length < stepsOf(full.runDir).length, "the crash lost the tail of the run");
    await resumeExperiment(killedDir, { log: null });
    const fullSteps = stepsOf(full.runDir).map((r) => ({ ...r, run_id: "" }));
    const resumedSteps = stepsOf(killedDir).map((r) => ({ ...r, run_id: "" }));
    assert.deepEqual(resumedSteps, fullSteps);
    const eps = (d: string) => readArrowStream<Record<string, unknown>>(path.join(d, "episodes.arrows")).rows.map((r) => ({ ...r, run_id: "", duration_s: 0 }));
    assert.deepEqual(eps(killedDir), eps(full.runDir));
  });

  it("export-policy writes a schedule that replays as an agent; compare reads the runs", async () => {
    const out = tmp();
    const r = await runExperiment({ env: SPEC, agent: "policies/trivial.json", episodes: 1, seed: 2, out, runId: "src", backend: "wasm", log: null });
    const file = path.join(out, "learned.json");
    const e = exportPolicy({ run: r.runDir, out: file, phases: 2 });
    assert.equal(e.schedule.phases.length, 2);
    const replay = await runExperiment({ env: SPEC, agent: file, episodes: 1, seed: 3, out, runId: "replay", backend: "wasm", log: null });
    const used = new Set(stepsOf(replay.runDir).map((s) => s.ops[0] ?? "identity"));
    const exported = new Set(e.schedule.phases.flatMap((p) => p.ops.map((o) => o.op)));
    for (const op of used) assert.ok(exported.has(op), `replayed op ${op} comes from the schedule`);
    const rows = compareRuns([r.runDir, replay.runDir]);
    assert.deepEqual(rows.map((x) => x.agent), ["trivial", "schedule"]);
    assert.ok(rows.every((x) => x.testNdcg10 >= 0 && x.testNdcg10 <= 1));
  });

  it("the CLI prints a clear one-line error for a bad spec", () => {
    const bad = path.join(tmp(), "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ name: "x", dataset: { path: "." }, rl: { slots: 0 } }));
    let stderr = "";
    try {
      execFileSync(process.execPath, ["bin/rl-train.js", "run", "--env", bad, "--backend", "wasm"], { encoding: "utf8", stdio: "pipe" });
    } catch (err) {
      stderr = (err as { stderr: string }).stderr;
    }
    assert.match(stderr, /bad\.json: invalid env spec/);
    assert.match(stderr, /`rl\.slots`/);
  });
});

describe("AugmentEnv v4: paired randomness, LogLik reward, held-out metrics", () => {
  const spec = loadEnvSpec(SPEC);
  const { split } = loadSpecData(spec);

  it("a batch draws the same dropout and negative streams whatever the actions before it", async () => {
    const streamsAtSecondStep = async (firstOp: number) => {
      const env = new AugmentEnv({ ...spec, rl: { ...spec.rl, mode: "contrastive" } }, split);
      env.reset({ seed: 8 });
      await env.step({ ops: [firstOp], magnitudes: [0.5] });
      const model = (env as unknown as { model: { trainStep: (b: unknown) => number; getState(): { rng: unknown } } }).model;
      const real = model.trainStep.bind(model);
      let seen: unknown;
      model.trainStep = (b) => ((seen ??= structuredClone(model.getState().rng)), real(b));
      await env.step({ ops: [0], magnitudes: [0] });
      env.dispose();
      return seen;
    };
    // Identity (a plain step) and mask (a contrastive step, which draws more dropout) first.
    assert.deepEqual(await streamsAtSecondStep(2), await streamsAtSecondStep(0));
  });

  it("LogLik is the mean log-softmax probability of the target, as a reward metric too", async () => {
    const env = new AugmentEnv({ ...spec, rl: { ...spec.rl, reward: { ...spec.rl.reward, metric: "LogLik", evalEvery: 1 } } }, split);
    assert.deepEqual(env.stepMetrics, ["LogLik", "NDCG@10", "HR@10"]);
    env.reset({ seed: 2 });
    const r = await env.step({ ops: [0], magnitudes: [0] });
    const ll = r.info.valid!["LogLik"]!;
    assert.ok(ll < 0 && ll > -Math.log(split.dataset.numItems) - 5, `LogLik ${ll}`);
    // By hand for the reward users: log(e^{s_t} / Σ_j e^{s_j}) over items 1..V.
    const model = (env as unknown as { model: { scoreNext(h: Int32Array[]): Float32Array } }).model;
    const users = Array.from((env as unknown as { rewardUsers: Int32Array }).rewardUsers);
    const V = split.dataset.numItems;
    const scores = model.scoreNext(users.map((u) => split.train[u]!));
    let sum = 0;
    users.forEach((u, b) => {
      const row = scores.subarray(b * (V + 2) + 1, b * (V + 2) + 1 + V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      sum += scores[b * (V + 2) + split.validTarget[u]!]! - lse;
    });
    assert.ok(Math.abs(ll - sum / users.length) < 1e-4, `${ll} vs ${sum / users.length}`);
    env.dispose();
  });

  it("final metrics add the held-out users (all but the reward users), from the same ranks", async () => {
    const env = new AugmentEnv(spec, split);
    env.reset({ seed: 3 });
    await env.step({ ops: [1], magnitudes: [0.2] });
    const m = env.finalMetrics();
    assert.deepEqual(env.episodeMetrics.slice(-2), ["heldout:NDCG@10", "heldout:HR@10"]);
    const { evaluate } = await import("../src/models/evaluate.ts");
    const reward = new Set((env as unknown as { rewardUsers: Int32Array }).rewardUsers);
    const others = Int32Array.from(split.train.keys()).filter((u) => !reward.has(u));
    assert.ok(others.length > 0 && others.length < split.train.length);
    const model = (env as unknown as { model: Parameters<typeof evaluate>[0] }).model;
    const direct = evaluate(model, split, "test", { users: others }).metrics;
    assert.ok(Math.abs(m.test["heldout:NDCG@10"]! - direct["NDCG@10"]!) < 1e-12);
    assert.ok(Math.abs(m.valid["heldout:HR@10"]! - evaluate(model, split, "valid", { users: others }).metrics["HR@10"]!) < 1e-12);
    env.dispose();
  });
});
