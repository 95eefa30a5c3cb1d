/**
 * The recording hook: writes a run directory
 *
 *   runs/<id>/config.json      RunStartInfo (run id, observation dim, op names, metric names, resolved config)
 *   runs/<id>/steps.arrows     one StepRow per env step (every branch's, when the run branches)
 *   runs/<id>/episodes.arrows  one EpisodeRow per episode
 *   runs/<id>/updates.arrows   one UpdateRow per learner statistic per agent update
 *   runs/<id>/summary.json     RunSummary, written at the end
 *
 * Steps and updates are flushed at every episode end (before the episode row), so on disk an
 * episode row never precedes its steps and a follower sees whole episodes. JSON files are
 * written atomically (a crash or a full disk leaves the previous version, never a torn file).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../core/files.ts";
import type { RunHook, RunStartInfo, RunSummary } from "./hooks.ts";
import { ArrowStreamRecorder } from "./recorder.ts";
import { episodeSchema, type EpisodeRow, stepSchema, type StepRow, updateSchema, type UpdateRow } from "./schema.ts";

/** Options of `RunRecorder`. */
export interface RunRecorderOptions {
  /** Step rows per record batch. Default 16 (a follower sees steps at least this often). */
  stepRowsPerBatch?: number;
  /** fsync every batch. Default true. */
  fsync?: boolean;
  /**
   * Resume an interrupted run: keep the first `steps` step rows, `episodes` episode rows and
   * `updates` update rows (the counts saved with the checkpoint) and append after them.
   * Default: start fresh.
   */
  resume?: RecorderCounts;
}

/** Rows recorded per file (what a checkpoint stores to resume the files exactly). */
export interface RecorderCounts {
  steps: number;
  episodes: number;
  /** Absent in checkpoints written before updates.arrows existed (then 0). */
  updates?: number;
}

export const STEPS_FILE = "steps.arrows";
export const EPISODES_FILE = "episodes.arrows";
export const UPDATES_FILE = "updates.arrows";
export const CONFIG_FILE = "config.json";
export const SUMMARY_FILE = "summary.json";

/** A `RunHook` that records a run into `runDir`. */
export class RunRecorder implements RunHook {
  readonly runDir: string;
  private readonly opts: RunRecorderOptions;
  private steps: ArrowStreamRecorder<StepRow> | null = null;
  private episodes: ArrowStreamRecorder<EpisodeRow> | null = null;
  private updates: ArrowStreamRecorder<UpdateRow> | null = null;

  constructor(runDir: string, opts: RunRecorderOptions = {}) {
    this.runDir = runDir;
    this.opts = opts;
  }

  /** Rows recorded so far per file (store these with a checkpoint for `resume`). */
  counts(): Required<RecorderCounts> {
    return { steps: this.steps?.numRows ?? 0, episodes: this.episodes?.numRows ?? 0, updates: this.updates?.numRows ?? 0 };
  }

  /** Write every buffered row now (before a checkpoint, so the files hold `counts()` rows). */
  flush(): void {
    this.steps?.flush();
    this.updates?.flush();
    this.episodes?.flush();
  }

  onRunStart(info: RunStartInfo): void {
    fs.mkdirSync(this.runDir, { recursive: true });
    const advice = `free disk space or fix permissions, then continue with \`rl-train resume ${this.runDir}\` (it restarts from the last checkpoint)`;
    writeFileAtomic(path.join(this.runDir, CONFIG_FILE), JSON.stringify(info, null, 2) + "\n", advice);
    const file = (name: string) => path.join(this.runDir, name);
    const stepOpts = { rowsPerBatch: this.opts.stepRowsPerBatch ?? 16, fsync: this.opts.fsync, advice };
    const oneRow = { rowsPerBatch: 1, fsync: this.opts.fsync, advice };
    const updateOpts = { rowsPerBatch: 64, fsync: this.opts.fsync, advice };
    const resume = this.opts.resume;
    if (resume) {
      this.steps = ArrowStreamRecorder.open<StepRow>(file(STEPS_FILE), { ...stepOpts, resumeAtRows: resume.steps });
      this.episodes = ArrowStreamRecorder.open<EpisodeRow>(file(EPISODES_FILE), { ...oneRow, resumeAtRows: resume.episodes });
      this.updates = fs.existsSync(file(UPDATES_FILE))
        ? ArrowStreamRecorder.open<UpdateRow>(file(UPDATES_FILE), { ...updateOpts, resumeAtRows: resume.updates ?? 0 })
        : ArrowStreamRecorder.create<UpdateRow>(file(UPDATES_FILE), updateSchema(), updateOpts);
    } else {
      this.steps = ArrowStreamRecorder.create<StepRow>(file(STEPS_FILE), stepSchema(info.observation_dim, info.step_metrics), stepOpts);
      this.episodes = ArrowStreamRecorder.create<EpisodeRow>(file(EPISODES_FILE), episodeSchema(info.episode_metrics), oneRow);
      this.updates = ArrowStreamRecorder.create<UpdateRow>(file(UPDATES_FILE), updateSchema(), updateOpts);
    }
  }

  onStep(row: StepRow): void {
    this.started().steps.append(row);
  }

  onUpdate(rows: UpdateRow[]): void {
    const { updates } = this.started();
    for (const r of rows) updates.append(r);
  }

  onEpisode(row: EpisodeRow): void {
    const { steps, episodes, updates } = this.started();
    steps.flush();
    updates.flush();
    episodes.append(row);
  }

  onRunEnd(summary: RunSummary): void {
    this.steps?.close();
    this.updates?.close();
    this.episodes?.close();
    writeFileAtomic(path.join(this.runDir, SUMMARY_FILE), JSON.stringify(summary, null, 2) + "\n",
      `free disk space, then continue with \`rl-train resume ${this.runDir}\``);
  }

  private started() {
    if (!this.steps || !this.episodes || !this.updates) {
      throw new Error(`RunRecorder: a row arrived before onRunStart for \`${this.runDir}\`; call hooks.onRunStart(info) first`);
    }
    return { steps: this.steps, episodes: this.episodes, updates: this.updates };
  }
}
