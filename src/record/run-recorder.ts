/**
 * The recording hook: writes a run directory
 *
 *   runs/<id>/config.json     RunStartInfo (run id, observation dim, op names, resolved config)
 *   runs/<id>/steps.arrows    one StepRow per env step
 *   runs/<id>/episodes.arrows one EpisodeRow per episode
 *   runs/<id>/summary.json    RunSummary, written at the end
 *
 * Steps are flushed at every episode end (before the episode row), so on disk an episode row
 * never precedes its steps and a follower sees whole episodes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunHook, RunStartInfo, RunSummary } from "./hooks.ts";
import { ArrowStreamRecorder } from "./recorder.ts";
import { episodeSchema, type EpisodeRow, stepSchema, type StepRow } from "./schema.ts";

/** Options of `RunRecorder`. */
export interface RunRecorderOptions {
  /** Step rows per record batch. Default 16 (a follower sees steps at least this often). */
  stepRowsPerBatch?: number;
  /** fsync every batch. Default true. */
  fsync?: boolean;
  /**
   * Resume an interrupted run: keep the first `steps` step rows and `episodes` episode rows
   * (the counts saved with the checkpoint) and append after them. Default: start fresh.
   */
  resume?: { steps: number; episodes: number };
}

export const STEPS_FILE = "steps.arrows";
export const EPISODES_FILE = "episodes.arrows";
export const CONFIG_FILE = "config.json";
export const SUMMARY_FILE = "summary.json";

/** A `RunHook` that records a run into `runDir`. */
export class RunRecorder implements RunHook {
  readonly runDir: string;
  private readonly opts: RunRecorderOptions;
  private steps: ArrowStreamRecorder<StepRow> | null = null;
  private episodes: ArrowStreamRecorder<EpisodeRow> | null = null;

  constructor(runDir: string, opts: RunRecorderOptions = {}) {
    this.runDir = runDir;
    this.opts = opts;
  }

  /** Step and episode rows recorded so far (store these with a checkpoint for `resume`). */
  counts(): { steps: number; episodes: number } {
    return { steps: this.steps?.numRows ?? 0, episodes: this.episodes?.numRows ?? 0 };
  }

  /** Write every buffered step row now (before a checkpoint, so the file holds `counts().steps` rows). */
  flush(): void {
    this.steps?.flush();
    this.episodes?.flush();
  }

  onRunStart(info: RunStartInfo): void {
    fs.mkdirSync(this.runDir, { recursive: true });
    fs.writeFileSync(path.join(this.runDir, CONFIG_FILE), JSON.stringify(info, null, 2) + "\n");
    const stepsPath = path.join(this.runDir, STEPS_FILE);
    const episodesPath = path.join(this.runDir, EPISODES_FILE);
    const stepOpts = { rowsPerBatch: this.opts.stepRowsPerBatch ?? 16, fsync: this.opts.fsync };
    const episodeOpts = { rowsPerBatch: 1, fsync: this.opts.fsync };
    const resume = this.opts.resume;
    if (resume) {
      this.steps = ArrowStreamRecorder.open<StepRow>(stepsPath, { ...stepOpts, resumeAtRows: resume.steps });
      this.episodes = ArrowStreamRecorder.open<EpisodeRow>(episodesPath, { ...episodeOpts, resumeAtRows: resume.episodes });
    } else {
      this.steps = ArrowStreamRecorder.create<StepRow>(stepsPath, stepSchema(info.observation_dim), stepOpts);
      this.episodes = ArrowStreamRecorder.create<EpisodeRow>(episodesPath, episodeSchema(), episodeOpts);
    }
  }

  onStep(row: StepRow): void {
    this.started().steps.append(row);
  }

  onEpisode(row: EpisodeRow): void {
    const { steps, episodes } = this.started();
    steps.flush();
    episodes.append(row);
  }

  onRunEnd(summary: RunSummary): void {
    this.steps?.close();
    this.episodes?.close();
    fs.writeFileSync(path.join(this.runDir, SUMMARY_FILE), JSON.stringify(summary, null, 2) + "\n");
  }

  private started() {
    if (!this.steps || !this.episodes) {
      throw new Error(`RunRecorder: a row arrived before onRunStart for \`${this.runDir}\`; call hooks.onRunStart(info) first`);
    }
    return { steps: this.steps, episodes: this.episodes };
  }
}
