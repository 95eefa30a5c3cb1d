/**
 * The bookkeeping of one `rl-train run`, shared by every way of playing episodes (one at a time,
 * parallel rounds, branches): building and recording step, update and episode rows, progress
 * output, totals and checkpoints. Keeping it in one place is what lets the ways of playing differ
 * only in how transitions are produced.
 */
import type { Action, Agent } from "../agents/index.ts";
import type { Env, EpisodeMetrics, StepInfo } from "../env/index.ts";
import type { HookList, RunHook } from "../record/hooks.ts";
import type { RunRecorder } from "../record/run-recorder.ts";
import { makeEpisodeRow, makeStepRow, metricCells, type StepRow, type UpdateRow } from "../record/schema.ts";
import { CHECKPOINT_VERSION, writeCheckpoint } from "./checkpoint.ts";
import type { ProgressReporter } from "./progress.ts";
import type { RunConfig, RunResult } from "./experiment.ts";

/** The first episode of `episode`'s group (episodes an agent compares are played from its seed). */
export function groupStart(episode: number, group = 1): number {
  return episode - (episode % group);
}

export function episodeSeed(seed: number, episode: number, group = 1): string {
  return `${seed}/episode-${groupStart(episode, group)}`;
}

export class RunSession {
  readonly result: RunResult;
  /** Agent updates so far (index of the next update row). */
  updates = 0;
  private readonly t0: number;

  constructor(
    readonly config: RunConfig,
    readonly runDir: string,
    readonly env: Env,
    readonly agent: Agent,
    /** Every hook (recorder first, then the monitor and extra hooks). */
    readonly hooks: HookList,
    /** Every hook but the live monitor: for rows the monitor already received as they were played. */
    readonly recordHooks: HookList,
    readonly recorder: RunRecorder,
    readonly progress: ProgressReporter,
    readonly log: ((line: string) => void) | null,
    /** The live monitor, if any: parallel rounds stream steps to it as they are played. */
    readonly live: RunHook | undefined,
    wallOffsetMs = 0,
  ) {
    this.t0 = performance.now() - wallOffsetMs;
    this.result = { runDir, runId: config.run_id, episodes: [], stopped: false };
  }

  /** The env seed of episode `ep`: an agent that compares episodes in groups gets one seed per group. */
  episodeSeed(ep: number): string {
    return episodeSeed(this.config.seed, ep, this.agent.episodeGroup ?? 1);
  }

  /** ms since the run started (continued across resumes). */
  wallMs(): number {
    return performance.now() - this.t0;
  }

  /** The step row of one transition (not yet recorded). */
  stepRow(ep: number, step: number, obs: Float32Array, action: Action, reward: number, info: StepInfo, wallMs: number, branch = 0): StepRow {
    return makeStepRow({
      run_id: this.config.run_id, episode: ep, branch, step, ops: info.ops, magnitudes: info.magnitudes,
      // A plain array: the monitor sends rows as JSON, where a Float32Array would become an object.
      reward, train_loss: info.trainLoss, observation: Array.from(obs),
      ...metricCells("valid", this.env.stepMetrics, info.valid),
      log_prob: action.logProb ?? null, value: action.value ?? null, event: info.event ?? null,
      wall_ms: wallMs,
    });
  }

  /**
   * Record one step row and report progress. `alreadyLive`: the monitor received this row while
   * it was played (parallel rounds), so only the other hooks get it now.
   */
  recordStep(row: StepRow, info: StepInfo, episodeReturn: number, learner: Record<string, number>, maxSteps: number, alreadyLive = false): void {
    if ((alreadyLive ? this.recordHooks : this.hooks).onStep(row) === false) this.result.stopped = true;
    this.progress.step(row.episode, row.step + 1, maxSteps, info, episodeReturn, learner);
  }

  /** Record the statistics an agent update returned (nothing when it returned none). */
  recordUpdate(ep: number, step: number, stats: Record<string, number>): void {
    const keys = Object.keys(stats);
    if (keys.length === 0) return;
    const wall = this.wallMs();
    const rows: UpdateRow[] = keys.map((key) => ({
      run_id: this.config.run_id, update: this.updates, episode: ep, step, key, value: stats[key]!, wall_ms: wall,
    }));
    this.updates++;
    this.hooks.onUpdate(rows);
  }

  recordEpisode(ep: number, steps: number, ret: number, final: EpisodeMetrics, durationS: number): void {
    const headline = this.env.episodeMetrics[0]!;
    this.result.episodes.push({ episode: ep, return: ret, valid: final.valid, test: final.test, steps });
    const fmt = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(4));
    this.log?.(`[augrl] episode ${ep} done in ${durationS.toFixed(0)}s: return ${ret.toFixed(3)}, valid ${headline} ${fmt(final.valid[headline])}, ` +
      `test ${this.env.episodeMetrics.slice(0, 2).map((m) => `${m} ${fmt(final.test[m])}`).join(" ")}`);
    const row = makeEpisodeRow({
      run_id: this.config.run_id, episode: ep, agent: this.config.agent.agent, seed: this.episodeSeed(ep), steps,
      return: ret, ...metricCells("valid", this.env.episodeMetrics, final.valid), ...metricCells("test", this.env.episodeMetrics, final.test),
      duration_s: durationS, extra: JSON.stringify({ valid: final.valid, test: final.test }),
    });
    if (this.hooks.onEpisode(row) === false) this.result.stopped = true;
  }

  /** Flush the logs and write a checkpoint. `envState` null: at an episode boundary (`episode` starts from reset). */
  checkpoint(episode: number, envState: unknown, episodeReturn = 0, episodeStartedMs = 0): void {
    this.recorder.flush();
    writeCheckpoint(this.runDir, {
      version: CHECKPOINT_VERSION, episode, episodeReturn, episodeStartedMs,
      envKind: this.env.kind, envVersion: this.env.version, env: envState,
      agent: this.agent.save(), recorder: this.recorder.counts(), updates: this.updates, wallOffsetMs: this.wallMs(),
    });
  }
}
