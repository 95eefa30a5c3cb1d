/**
 * Training-loop hooks (Stable-Baselines3 callback style): the run loop calls them in order;
 * `onStep`/`onEpisode` returning `false` asks the loop to stop after this step.
 *
 * The recorder and the monitor are both hooks, so either can be tested without an agent. Put
 * the recorder before the monitor in a `HookList`: records are written before they are
 * streamed.
 */
import type { EpisodeRow, StepRow, UpdateRow } from "./schema.ts";

/** Given once, before the first step. */
export interface RunStartInfo {
  run_id: string;
  /** Length of the env's observation vector (the `observation` column width). */
  observation_dim: number;
  /** Op names of the env's action space, in action-index order (the monitor's heatmap rows). */
  op_names: string[];
  /** The resolved run config (env spec, agent config, seed...), JSON-serialisable. */
  config: Record<string, unknown>;
  /** ISO-8601 start time. */
  started_at: string;
  /** Env kind (`augment`, `intent`); absent in runs recorded before envs had kinds (the recommender). */
  env_kind?: string;
  /** The env's step metric names (`valid_<m>` columns of steps.arrows); absent: NDCG@10, HR@10. */
  step_metrics?: string[];
  /** The env's episode metric names (`valid_<m>`/`test_<m>` columns of episodes.arrows), headline first. */
  episode_metrics?: string[];
}

/** Given once, after the last step (also when stopped early or failed). */
export interface RunSummary {
  run_id: string;
  status: "completed" | "stopped" | "failed";
  episodes: number;
  steps: number;
  duration_s: number;
  /** Error message when `status` is `failed`. */
  error?: string;
  /** Final metrics, e.g. `{ "test_ndcg10": 0.03 }`. */
  metrics?: Record<string, number | null>;
}

/** A training hook; every method is optional. Returning `false` from onStep/onEpisode stops training. */
export interface RunHook {
  onRunStart?(info: RunStartInfo): void;
  onStep?(row: StepRow): boolean | void;
  onEpisode?(row: EpisodeRow): boolean | void;
  /** The learner statistics of one agent update (one row per key). */
  onUpdate?(rows: UpdateRow[]): void;
  onRunEnd?(summary: RunSummary): void;
}

/**
 * Several hooks called in order. A `false` from any hook stops training, but every hook still
 * sees the row (so the recorder never misses the last one).
 */
export class HookList implements RunHook {
  readonly hooks: RunHook[];
  constructor(hooks: Array<RunHook | undefined | null | false>) {
    this.hooks = hooks.filter((h): h is RunHook => !!h);
  }
  onRunStart(info: RunStartInfo): void {
    for (const h of this.hooks) h.onRunStart?.(info);
  }
  onStep(row: StepRow): boolean {
    let go = true;
    for (const h of this.hooks) if (h.onStep?.(row) === false) go = false;
    return go;
  }
  onEpisode(row: EpisodeRow): boolean {
    let go = true;
    for (const h of this.hooks) if (h.onEpisode?.(row) === false) go = false;
    return go;
  }
  onUpdate(rows: UpdateRow[]): void {
    for (const h of this.hooks) h.onUpdate?.(rows);
  }
  onRunEnd(summary: RunSummary): void {
    for (const h of this.hooks) h.onRunEnd?.(summary);
  }
}
