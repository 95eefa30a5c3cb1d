import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import pl from "nodejs-polars";
import { Rng } from "../src/core/rng.ts";
import {
  ArrowStreamRecorder,
  ArrowStreamTail,
  episodeSchema,
  type EpisodeRow,
  type FileSink,
  HookList,
  nodeFileSink,
  readArrowStream,
  RecordWriteError,
  RunRecorder,
  stepSchema,
  type StepRow,
} from "../src/record/index.ts";
import { streamLayout } from "../src/record/frames.ts";
import { playSynthetic, syntheticRun } from "../src/record/synthetic.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-record-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DIM = 8;
const run = syntheticRun(new Rng(7), { episodes: 4, stepsPerEpisode: 25, observationDim: DIM });

/** What a step row looks like after a float32 round trip. */
function stored(r: StepRow) {
  return {
    ...r,
    magnitude: Math.fround(r.magnitude),
    magnitudes: r.magnitudes.map(Math.fround),
    observation: Array.from(r.observation, Math.fround),
  };
}

function writeSteps(file: string, rows: StepRow[], rowsPerBatch: number, close = true) {
  const rec = ArrowStreamRecorder.create<StepRow>(file, stepSchema(DIM), { rowsPerBatch, fsync: false });
  for (const r of rows) rec.append(r);
  if (close) rec.close();
  return rec;
}

describe("ArrowStreamRecorder", () => {
  it("round-trips step rows, nulls, lists and dictionaries", () => {
    const file = path.join(tmp, "roundtrip.arrows");
    writeSteps(file, run.steps, 16);
    const got = readArrowStream<StepRow>(file);
    assert.equal(got.complete, true);
    assert.equal(got.ignoredBytes, 0);
    assert.equal(got.batches.length, Math.ceil(run.steps.length / 16));
    assert.deepEqual(got.rows, run.steps.map(stored));
    assert.ok(run.steps.some((r) => r.ops.length === 2), "fixture has multi-op steps");
    assert.ok(run.steps.some((r) => r.reward === null) && run.steps.some((r) => r.event === "nan-rollback"));
  });

  it("is read by an independent reader (nodejs-polars) with the documented types", () => {
    const stepsFile = path.join(tmp, "polars-steps.arrows");
    const epFile = path.join(tmp, "polars-episodes.arrows");
    writeSteps(stepsFile, run.steps, 10);
    const er = ArrowStreamRecorder.create<EpisodeRow>(epFile, episodeSchema(), { rowsPerBatch: 1, fsync: false });
    for (const e of run.episodes) er.append(e);
    er.close();

    const steps = pl.readIPCStream(fs.readFileSync(stepsFile));
    assert.equal(steps.height, run.steps.length);
    assert.deepEqual(steps.columns, stepSchema(DIM).fields.map((f) => f.name));
    const dtypes = Object.fromEntries(steps.columns.map((c, i) => [c, String(steps.dtypes[i])]));
    assert.match(dtypes.op!, /Categorical/);
    assert.match(dtypes.observation!, /FixedSizeList\(DataType\(Float32\),8\)|Array/);
    assert.match(dtypes.ops!, /List\(DataType\(String\)\)/);
    assert.match(dtypes.reward!, /Float64/);
    assert.match(dtypes.episode!, /Int32/);
    assert.deepEqual(steps.getColumn("op").toArray(), run.steps.map((r) => r.op));
    assert.deepEqual(steps.getColumn("ops").toArray(), run.steps.map((r) => r.ops));
    assert.deepEqual(steps.getColumn("reward").toArray(), run.steps.map((r) => r.reward));
    assert.deepEqual(steps.getColumn("valid_ndcg10").toArray(), run.steps.map((r) => r.valid_ndcg10));
    assert.deepEqual(steps.getColumn("event").toArray(), run.steps.map((r) => r.event));
    assert.deepEqual(steps.getColumn("step").toArray(), run.steps.map((r) => r.step));
    const obs0 = Array.from(steps.getColumn("observation").toArray()[3] as unknown as ArrayLike<number>);
    assert.deepEqual(obs0, Array.from(run.steps[3]!.observation, Math.fround));

    const eps = pl.readIPCStream(fs.readFileSync(epFile));
    assert.equal(eps.height, run.episodes.length);
    assert.deepEqual(eps.columns, episodeSchema().fields.map((f) => f.name));
    assert.deepEqual(eps.getColumn("return").toArray(), run.episodes.map((e) => e.return));
    assert.deepEqual(eps.getColumn("test_ndcg20").toArray(), run.episodes.map(() => null));
    assert.deepEqual(eps.getColumn("agent").toArray(), run.episodes.map(() => "synthetic"));
  });

  it("reads every whole batch of a file cut off at any byte", () => {
    const file = path.join(tmp, "truncate.arrows");
    const rows = run.steps.slice(0, 40);
    writeSteps(file, rows, 7);
    const bytes = fs.readFileSync(file);
    const layout = streamLayout(bytes);
    assert.equal(layout.groups.length, 6);
    const offsets = new Set<number>([bytes.length - 1, bytes.length - 8, layout.schema!.end]);
    for (const g of layout.groups) for (const d of [-1, 0, 1, 13]) offsets.add(g.end + d);
    for (let k = layout.schema!.end; k < bytes.length; k += 97) offsets.add(k);
    for (const k of [...offsets].filter((o) => o <= bytes.length)) {
      const got = readArrowStream<StepRow>(bytes.subarray(0, k));
      const whole = layout.groups.filter((g) => g.end <= k).reduce((s, g) => s + g.rows, 0);
      assert.equal(got.rows.length, whole, `cut at byte ${k}`);
      assert.deepEqual(got.rows, rows.slice(0, whole).map(stored), `cut at byte ${k}`);
      assert.equal(got.complete, k === bytes.length);
    }
    assert.throws(() => readArrowStream(bytes.subarray(0, layout.schema!.end - 1)), /no complete Arrow IPC stream schema/);
  });

  it("resumes at any row so the file equals an uninterrupted one", () => {
    const rows = run.steps.slice(0, 50);
    const full = path.join(tmp, "uninterrupted.arrows");
    writeSteps(full, rows, 8);
    const expected = readArrowStream(full).rows;
    for (const resumeAt of [0, 8, 13, 29, 40]) {
      const file = path.join(tmp, `resumed-${resumeAt}.arrows`);
      // First life: crash after 45 rows (no close), leaving a torn partial batch behind.
      const rec = writeSteps(file, rows.slice(0, 45), 8, false);
      void rec;
      fs.appendFileSync(file, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x40, 0, 0]));
      // Second life: the checkpoint was taken at `resumeAt` rows.
      const again = ArrowStreamRecorder.open<StepRow>(file, { resumeAtRows: resumeAt, rowsPerBatch: 8, fsync: false });
      assert.equal(again.rowsOnDisk, resumeAt);
      for (const r of rows.slice(resumeAt)) again.append(r);
      again.close();
      assert.deepEqual(readArrowStream(file).rows, expected, `resumeAtRows ${resumeAt}`);
      assert.equal(pl.readIPCStream(fs.readFileSync(file)).height, rows.length);
    }
    assert.throws(
      () => ArrowStreamRecorder.open(full, { resumeAtRows: 51 }),
      (e: Error) => /`resumeAtRows` must be an integer in \[0, 50\]/.test(e.message) && e.message.includes(full),
    );
  });

  it("a failed write names the file, keeps what was written readable, and can be retried", () => {
    const file = path.join(tmp, "enospc.arrows");
    const real = nodeFileSink(file, "create");
    let failNext = false;
    const sink: FileSink = {
      ...real,
      write(bytes, position) {
        if (failNext) {
          failNext = false;
          real.write(bytes.subarray(0, Math.floor(bytes.length / 2)), position); // torn write
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        }
        real.write(bytes, position);
      },
    };
    const rec = ArrowStreamRecorder.create<StepRow>(file, stepSchema(DIM), { rowsPerBatch: 5, sink });
    for (const r of run.steps.slice(0, 10)) rec.append(r);
    failNext = true;
    const err = (() => {
      try {
        for (const r of run.steps.slice(10, 15)) rec.append(r);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof RecordWriteError, "write failure raises RecordWriteError");
    assert.match(err.message, /enospc\.arrows`/);
    assert.match(err.message, /ENOSPC/);
    assert.equal(err.rowsOnDisk, 10);
    assert.deepEqual(readArrowStream(file).rows, run.steps.slice(0, 10).map(stored));
    // Space is back: the buffered rows go out with the next flush.
    rec.close();
    assert.deepEqual(readArrowStream(file).rows, run.steps.slice(0, 15).map(stored));
  });

  it("reports real I/O errors with the file name (ENOSPC on /dev/full, missing directory)", (t) => {
    assert.throws(
      () => ArrowStreamRecorder.create(path.join(tmp, "no-such-dir", "x.arrows"), stepSchema(DIM)),
      (e: Error) => e instanceof RecordWriteError && /no-such-dir\/x\.arrows`/.test(e.message) && /ENOENT/.test(e.message),
    );
    if (!fs.existsSync("/dev/full")) return t.skip("/dev/full missing");
    assert.throws(
      () => ArrowStreamRecorder.create("/dev/full", stepSchema(DIM)),
      (e: Error) => e instanceof RecordWriteError && e.message.includes("`/dev/full`") && /ENOSPC/.test(e.message),
    );
  });

  it("rejects rows that do not fit the schema, naming the column", () => {
    const rec = ArrowStreamRecorder.create<StepRow>(path.join(tmp, "bad.arrows"), stepSchema(DIM), { fsync: false });
    assert.throws(() => rec.append({ ...run.steps[0]!, observation: [1, 2] }), /`observation` must have length 8.*got 2/);
    assert.throws(() => rec.append({ ...run.steps[0]!, train_loss: null as unknown as number }), /`train_loss` is not nullable/);
    assert.throws(() => rec.append({ ...run.steps[0]!, episode: 1.5 }), /`episode` must be an integer, got 1.5/);
    rec.close();
    assert.equal(readArrowStream(path.join(tmp, "bad.arrows")).rows.length, 0);
  });
});

describe("RunRecorder and hooks", () => {
  it("records a run directory; a hook returning false stops the loop; the tail follows the files", () => {
    const dir = path.join(tmp, "run-a");
    const tail = new ArrowStreamTail<StepRow>(path.join(dir, "steps.arrows"));
    assert.deepEqual(tail.poll(), [], "missing file polls empty");
    const recorder = new RunRecorder(dir, { stepRowsPerBatch: 4, fsync: false });
    const followed: StepRow[] = [];
    let seenAtFirstEpisode = -1;
    const spy = {
      onStep: () => {
        followed.push(...tail.poll());
      },
      onEpisode: (row: EpisodeRow) => {
        // Written before streamed: at the episode hook the episode's steps are all on disk.
        followed.push(...tail.poll());
        if (seenAtFirstEpisode < 0) seenAtFirstEpisode = followed.length;
        return row.episode < 1; // stop after the second episode
      },
    };
    playSynthetic(run, new HookList([recorder, spy]));
    followed.push(...tail.poll());
    assert.equal(tail.complete, true);
    assert.equal(seenAtFirstEpisode, 25);
    const steps = readArrowStream<StepRow>(path.join(dir, "steps.arrows"));
    const eps = readArrowStream<EpisodeRow>(path.join(dir, "episodes.arrows"));
    assert.equal(eps.rows.length, 2);
    assert.equal(steps.rows.length, 50);
    assert.deepEqual(followed, steps.rows);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"));
    assert.equal(summary.status, "stopped");
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    assert.equal(config.observation_dim, DIM);
    assert.deepEqual(config.op_names, run.info.op_names);
  });

  it("resumes a run directory from checkpoint counts", () => {
    const dirA = path.join(tmp, "run-full");
    playSynthetic(run, new RunRecorder(dirA, { stepRowsPerBatch: 6, fsync: false }));
    const dirB = path.join(tmp, "run-resumed");
    // First life stops during episode 2 (after 60 steps); the checkpoint was at the end of episode 1.
    let n = 0;
    playSynthetic(run, new HookList([new RunRecorder(dirB, { stepRowsPerBatch: 6, fsync: false }), { onStep: () => ++n < 60 }]));
    const second = new RunRecorder(dirB, { stepRowsPerBatch: 6, fsync: false, resume: { steps: 50, episodes: 2 } });
    second.onRunStart(run.info);
    for (const e of run.events.slice(52)) (e.kind === "step" ? second.onStep(e.row) : second.onEpisode(e.row));
    second.onRunEnd({ run_id: "synthetic", status: "completed", episodes: 4, steps: 100, duration_s: 0 });
    for (const f of ["steps.arrows", "episodes.arrows"]) {
      assert.deepEqual(readArrowStream(path.join(dirB, f)).rows, readArrowStream(path.join(dirA, f)).rows, f);
    }
  });
});

describe("export-policy on a long run", () => {
  it("reads a step log of 200,000 rows (a run of 150,000 steps once overflowed the stack)", async () => {
    const { exportPolicy } = await import("../src/cli/analysis.ts");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-long-run-"));
    try {
      const long = syntheticRun(new Rng(3), { episodes: 2, stepsPerEpisode: 100_000, observationDim: 2 });
      playSynthetic(long, new RunRecorder(dir, { stepRowsPerBatch: 10_000, fsync: false }));
      const e = exportPolicy({ run: dir, out: path.join(dir, "policy.json"), phases: 2 });
      assert.equal(e.steps, 100_000, "the last episode's steps");
      assert.equal(e.schedule.phases.length, 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("learns the schedule from the last episode, the last N, or all of them", async () => {
    const { exportPolicy } = await import("../src/cli/analysis.ts");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-export-n-"));
    try {
      playSynthetic(syntheticRun(new Rng(4), { episodes: 5, stepsPerEpisode: 30, observationDim: 2 }), new RunRecorder(dir, { fsync: false }));
      const steps = (episodes: "last" | "all" | number) => exportPolicy({ run: dir, out: path.join(dir, "p.json"), phases: 2, episodes }).steps;
      assert.deepEqual([steps("last"), steps(1), steps(3), steps(5), steps(50), steps("all")], [30, 30, 90, 150, 150, 150]);
      assert.throws(() => steps(0), /`episodes` must be last, all or an integer ≥ 1, got 0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
