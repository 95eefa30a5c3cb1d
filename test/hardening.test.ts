// Malformed input gets one clear error, and nothing already written is lost: CLI options,
// checkpoints, config files, full disks and torn logs.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { runExperiment, resumeExperiment } from "../src/cli/experiment.ts";
import { checkExperimentOptions, parseNumberOption } from "../src/cli/options.ts";
import { writeFileAtomic } from "../src/core/files.ts";
import { runMonitor } from "../src/monitor/run-monitor.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import { RunRecorder } from "../src/record/run-recorder.ts";
import { selectBackend } from "../src/tf/backend.ts";
import { tempDirs } from "./tmp-dirs.ts";

const SPEC = "test/fixtures/env/tiny.json";
const tmp = tempDirs("hard");
before(async () => {
  await selectBackend("wasm", null);
});
const rows = (file: string) => readArrowStream(file).rows.length;

describe("numeric options", () => {
  it("name the option and the value as typed", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ budgetEpochs: "abc" }, /`--budget-epochs` must be a number > 0 and <= 100000; got "abc"/],
      [{ budgetEpochs: "1e999" }, /`--budget-epochs` is too large: "1e999"/],
      [{ budgetEpochs: "-1" }, /`--budget-epochs` must be a number > 0/],
      [{ budgetEpochs: 0 }, /`--budget-epochs` must be a number > 0/],
      [{ parallelEpisodes: "abc" }, /`--parallel-episodes` must be an integer >= 1/],
      [{ checkpointEvery: "abc" }, /`--checkpoint-every` must be an integer >= 0/],
      [{ workers: 0 }, /`--workers` must be an integer >= 1/],
      [{ monitor: "abc" }, /`--monitor` must be an integer >= 0 and <= 65535; got "abc"/],
      [{ monitor: 70000 }, /`--monitor` is too large/],
      [{ episodes: 0 }, /`--episodes` must be an integer >= 1/],
      [{ episodes: 1.5 }, /`--episodes` must be an integer/],
      [{ seed: "99999999999999999999" }, /`--seed` is too large/],
    ];
    for (const [o, re] of cases) assert.throws(() => checkExperimentOptions(o), re, JSON.stringify(o));
    assert.equal(parseNumberOption("--budget-epochs", "0.5", { min: 0, exclusiveMin: true, max: 10 }), 0.5);
    assert.doesNotThrow(() => checkExperimentOptions({ episodes: 2, budgetEpochs: 0.25, checkpointEvery: 0, parallelEpisodes: 2, workers: 1, monitor: 0 }));
  });

  it("are checked by the CLI before anything runs", () => {
    const out = tmp();
    const r = spawnSync(process.execPath, ["bin/rl-train.js", "run", "--env", SPEC, "--budget-epochs", "abc", "--out", out], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^rl-train: `--budget-epochs` must be a number > 0 and <= 100000; got "abc"/m);
    assert.deepEqual(fs.readdirSync(out), [], "no run folder");
  });
});

describe("run folders and resume", () => {
  it("an error found while building the env leaves no run folder", async () => {
    const out = tmp();
    const raw = JSON.parse(fs.readFileSync(SPEC, "utf8"));
    raw.dataset.path = path.resolve(path.dirname(SPEC), raw.dataset.path);
    raw.rl.ops = ["identity", "no-such-op"];
    const spec = path.join(out, "bad-op.json");
    fs.writeFileSync(spec, JSON.stringify(raw));
    await assert.rejects(runExperiment({ env: spec, agent: "policies/random.json", out: path.join(out, "runs"), backend: "wasm", log: null }), /unknown op "no-such-op"/);
    assert.equal(fs.existsSync(path.join(out, "runs")) ? fs.readdirSync(path.join(out, "runs")).length : 0, 0);
  });

  it("a damaged checkpoint ({} or null) is refused before any log is touched", async () => {
    const out = tmp();
    const run = await runExperiment({ env: SPEC, agent: "policies/random.json", episodes: 2, seed: 3, out, runId: "r", backend: "wasm", checkpointEvery: 2, log: null });
    fs.rmSync(path.join(run.runDir, "summary.json"));
    const steps = path.join(run.runDir, "steps.arrows");
    const episodes = path.join(run.runDir, "episodes.arrows");
    const before = { steps: rows(steps), episodes: rows(episodes), bytes: fs.readFileSync(steps) };
    assert.ok(before.steps > 0);
    const cp = path.join(run.runDir, "checkpoints/latest.json");
    for (const [text, re] of [["{}", /checkpoints\/latest\.json` has layout version undefined/], ["null", /holds null, not a checkpoint object/], ["{\"version\":2}", /is incomplete or damaged/], ["{nope", /is not readable JSON/]] as const) {
      fs.writeFileSync(cp, text);
      await assert.rejects(resumeExperiment(run.runDir, { log: null }), re, text);
      assert.equal(rows(steps), before.steps, `steps kept after ${text}`);
      assert.equal(rows(episodes), before.episodes, `episodes kept after ${text}`);
      assert.deepEqual(fs.readFileSync(steps), before.bytes, `steps.arrows byte for byte after ${text}`);
    }
  });

  it("a malformed config.json is named, not 'Cannot read properties of undefined'", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "config.json"), "{}");
    await assert.rejects(resumeExperiment(dir, { log: null }), /config\.json` is not the config of an `rl-train run`/);
    fs.writeFileSync(path.join(dir, "config.json"), "{\"config\":");
    await assert.rejects(resumeExperiment(dir, { log: null }), /config\.json` is not readable JSON/);
  });

  it("after a kill and a 0-byte summary.json, resume completes and the summary counts the whole run", async () => {
    const out = tmp();
    const full = await runExperiment({ env: SPEC, agent: "policies/reinforce.json", episodes: 2, seed: 7, out, runId: "full", backend: "wasm", checkpointEvery: 2, log: null });
    const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/env/run-child.ts", out, "killed", "3"], { encoding: "utf8" });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    const dir = path.join(out, "killed");
    fs.writeFileSync(path.join(dir, "summary.json"), ""); // what a full disk left behind
    await resumeExperiment(dir, { log: null });
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"));
    const fullSummary = JSON.parse(fs.readFileSync(path.join(full.runDir, "summary.json"), "utf8"));
    assert.equal(summary.status, "completed");
    assert.equal(summary.steps, rows(path.join(dir, "steps.arrows")), "steps of both parts of the run");
    assert.equal(summary.steps, fullSummary.steps);
    assert.equal(summary.episodes, 2);
    assert.deepEqual(summary.metrics, fullSummary.metrics);
    assert.ok(rows(path.join(dir, "updates.arrows")) > 0 && rows(path.join(dir, "updates.arrows")) === rows(path.join(full.runDir, "updates.arrows")), "learner statistics resumed too");
  });
});

describe("full disks and torn files", () => {
  it("writeFileAtomic names the file on ENOSPC, leaves no temp file and keeps the previous content", (t) => {
    if (!fs.existsSync("/dev/full")) return t.skip("no /dev/full on this system");
    const dir = tmp();
    const file = path.join(dir, "summary.json");
    fs.writeFileSync(file, "{\"status\":\"old\"}");
    // Every write to the temp file lands on /dev/full: ENOSPC, as on a full disk.
    fs.symlinkSync("/dev/full", `${file}.tmp`);
    assert.throws(() => writeFileAtomic(file, "{\"status\":\"new\"}", "free disk space, then `rl-train resume x`"), /cannot write `.*summary\.json` \(ENOSPC\); free disk space, then `rl-train resume x`/);
    assert.equal(fs.existsSync(`${file}.tmp`), false, "temp file removed");
    assert.equal(fs.readFileSync(file, "utf8"), "{\"status\":\"old\"}");
  });

  it("rl-train monitor serves a run with a 0-byte summary and a torn steps.arrows, saying what it dropped", async () => {
    const out = tmp();
    const run = await runExperiment({ env: SPEC, agent: "policies/random.json", episodes: 1, seed: 4, out, runId: "m", backend: "wasm", log: null });
    const steps = path.join(run.runDir, "steps.arrows");
    const whole = rows(steps);
    fs.appendFileSync(steps, Buffer.from([0xff, 0xff, 0xff, 0xff, 40, 0, 0, 0, 1, 2, 3])); // a batch cut off mid-write
    fs.writeFileSync(path.join(run.runDir, "summary.json"), "");
    const warnings: string[] = [];
    const m = await runMonitor({ runDir: run.runDir, port: 0, pollMs: 20, warn: (l) => warnings.push(l) });
    try {
      assert.equal(m.mode, "follow", "an unreadable summary means unfinished");
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(m.server.stats().logEnd >= whole, true);
      assert.ok(warnings.some((w) => /summary\.json` is unreadable/.test(w)), warnings.join("\n"));
    } finally {
      await m.stop();
    }
    fs.writeFileSync(path.join(run.runDir, "summary.json"), JSON.stringify({ run_id: "m", status: "completed", episodes: 1, steps: whole, duration_s: 1 }));
    const warn2: string[] = [];
    const replay = await runMonitor({ runDir: run.runDir, port: 0, warn: (l) => warn2.push(l) });
    try {
      assert.equal(replay.mode, "replay");
      assert.ok(warn2.some((w) => /steps\.arrows` ends in 11 bytes of a record batch cut off mid-write; serving its \d+ whole rows/.test(w)), warn2.join("\n"));
    } finally {
      await replay.stop();
    }
  });

  it("the recorder's write errors name the file and give CLI advice, not internal API calls", (t) => {
    if (!fs.existsSync("/dev/full")) return t.skip("no /dev/full on this system");
    const info = { run_id: "x", observation_dim: 3, op_names: ["identity"], config: {}, started_at: "" };
    const a = tmp();
    fs.symlinkSync("/dev/full", path.join(a, "config.json.tmp"));
    assert.throws(() => new RunRecorder(a).onRunStart(info), /cannot write `.*config\.json` \(ENOSPC\); free disk space or fix permissions, then continue with `rl-train resume /);
    const b = tmp();
    fs.symlinkSync("/dev/full", path.join(b, "steps.arrows"));
    assert.throws(
      () => new RunRecorder(b).onRunStart(info),
      (e: Error) => /steps\.arrows` failed \(ENOSPC\)/.test(e.message) && /rl-train resume/.test(e.message) && !/ArrowStreamRecorder\.open/.test(e.message),
    );
  });
});
