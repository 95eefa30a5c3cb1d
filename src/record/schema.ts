/**
 * Row types and Arrow schemas of the run logs: `steps.arrows` (one row per env step),
 * `episodes.arrows` (one row per finished episode) and `updates.arrows` (one row per learner
 * statistic per agent update). docs/arrow-schema.md is the reference.
 *
 * Row keys equal Arrow column names (snake_case) so that a row read back from a file, a row
 * sent to the monitor and a row built by the run loop are the same object shape.
 *
 * Metric columns follow the env: `valid_<m>` per step metric and `valid_<m>`/`test_<m>` per
 * episode metric, `<m>` being {@link metricColumn} of the name (NDCG@10 → ndcg10, accuracy →
 * accuracy). The recommender's columns keep their version-1 names; the metric names are in the
 * schema metadata (`augrl.step_metrics`, `augrl.episode_metrics`) in column order.
 *
 * Version history: v1 (`steps/1`, `episodes/1`): fixed NDCG@10/HR@10 columns. v2 (`steps/2`,
 * `episodes/2`): a `branch` column in steps (paired branches); metric columns named after the
 * env's metrics; `updates/1` added. v1 files still read (no `branch`: treat as 0).
 */
import { Dictionary, Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8 } from "apache-arrow";
import { metricColumn } from "./metric-names.ts";

export { metricColumn };

/** Value of the `augrl.schema` metadata key of steps.arrows. */
export const STEP_SCHEMA_ID = "steps/2";
/** Value of the `augrl.schema` metadata key of episodes.arrows. */
export const EPISODE_SCHEMA_ID = "episodes/2";
/** Value of the `augrl.schema` metadata key of updates.arrows. */
export const UPDATE_SCHEMA_ID = "updates/1";

/** Step metrics of the recommender env, and what files without metadata hold. */
export const DEFAULT_STEP_METRICS: readonly string[] = ["NDCG@10", "HR@10"];
/** Episode metrics of the recommender env. */
export const DEFAULT_EPISODE_METRICS: readonly string[] = ["NDCG@10", "HR@10", "NDCG@20", "HR@20"];

/** `{ valid_<m>: value }` for each metric name (null when absent): the metric columns of a row. */
export function metricCells(prefix: "valid" | "test", names: readonly string[], values: Record<string, number> | undefined): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const n of names) {
    const v = values?.[n];
    out[`${prefix}_${metricColumn(n)}`] = v === undefined || !Number.isFinite(v) ? null : v;
  }
  return out;
}

/**
 * One env step. A step applies one sub-policy: one or more ops, each with its own magnitude.
 * `ops`/`magnitudes` hold all of them in application order; `op`/`magnitude` are the
 * single-valued summary that most plots need (see docs/arrow-schema.md).
 */
export interface StepRow {
  run_id: string;
  /** Episode index, 0-based. */
  episode: number;
  /** Branch of a paired-branch stage (`rl.branches`), 0-based; 0 when the run does not branch. */
  branch: number;
  /** Step index within the episode, 0-based. */
  step: number;
  /** Sub-policy label: op names joined with `+` in application order; `none` when no op applied. Dictionary-encoded. */
  op: string;
  /** Magnitude of the first op (0 when no op applied). */
  magnitude: number;
  /** Every op applied at this step, in order (empty when none). */
  ops: string[];
  /** Magnitude per entry of `ops`, same length. */
  magnitudes: number[];
  /** Reward received for this step; null when the env gave none (e.g. the step was rolled back). */
  reward: number | null;
  /** Mean training loss of the env's model over this step's batches. */
  train_loss: number;
  /** The observation the agent acted on (length = the file's observation dim). */
  observation: ArrayLike<number>;
  /** Log-probability of the action under the agent's policy; null for agents without one. */
  log_prob: number | null;
  /** Value estimate of the observation; null for agents without a critic. */
  value: number | null;
  /** Notable event at this step, e.g. `nan-rollback`; null otherwise. */
  event: string | null;
  /** Milliseconds since the run started, taken when the step finished (monotonic clock). */
  wall_ms: number;
  /** Reward-subset validation metrics (`valid_ndcg10`, `valid_accuracy`, …); null when not evaluated at this step. */
  [metric: `valid_${string}`]: number | null;
}

/** One finished episode. Metrics are null when not measured. */
export interface EpisodeRow {
  run_id: string;
  episode: number;
  /** Agent name, e.g. `ppo`, `random`. */
  agent: string;
  /** Seed of this episode, as a string (seeds may be numbers or strings, see `Rng`). */
  seed: string;
  /** Steps taken in this episode. */
  steps: number;
  /** Undiscounted sum of rewards. */
  return: number;
  /** Wall-clock duration of the episode in seconds. */
  duration_s: number;
  /** Every metric of the episode as a JSON object string (`{"valid":{…},"test":{…}}`); null when none. */
  extra: string | null;
  /** Full validation / test metrics (`valid_ndcg10`, `test_accuracy`, …). */
  [metric: `valid_${string}` | `test_${string}`]: number | null;
}

/** One learner statistic of one agent update (long format: one row per key). */
export interface UpdateRow {
  run_id: string;
  /** Update index in the run, 0-based. */
  update: number;
  /** Episode and step (steps done in it) after which the update ran. */
  episode: number;
  step: number;
  /** Namespaced statistic, e.g. `losses/approxKl`, `charts/entropy`. Dictionary-encoded. */
  key: string;
  value: number;
  wall_ms: number;
}

const f = (name: string, type: ConstructorParameters<typeof Field>[1], nullable: boolean) =>
  new Field(name, type, nullable);

/** Dictionary type of `op`. A fixed id keeps it stable across batches and resumed files. */
export const opDictionaryType = () => new Dictionary(new Utf8(), new Int32(), 0);

/**
 * Arrow schema of steps.arrows.
 * @param observationDim length of the env's observation vector (FixedSizeList size), >= 1.
 * @param stepMetrics the env's step metric names (a `valid_<m>` column each).
 */
export function stepSchema(observationDim: number, stepMetrics: readonly string[] = DEFAULT_STEP_METRICS): Schema {
  if (!Number.isInteger(observationDim) || observationDim < 1) {
    throw new RangeError(
      `stepSchema: \`observationDim\` must be an integer >= 1, got ${observationDim}; pass the env's observation length`,
    );
  }
  return new Schema(
    [
      f("run_id", new Utf8(), false),
      f("episode", new Int32(), false),
      f("branch", new Int32(), false),
      f("step", new Int32(), false),
      f("op", opDictionaryType(), false),
      f("magnitude", new Float32(), false),
      f("ops", new List(f("item", new Utf8(), false)), false),
      f("magnitudes", new List(f("item", new Float32(), false)), false),
      f("reward", new Float64(), true),
      f("train_loss", new Float64(), false),
      ...uniqueColumns("valid", stepMetrics).map((c) => f(c, new Float64(), true)),
      f("observation", new FixedSizeList(observationDim, f("item", new Float32(), false)), false),
      f("log_prob", new Float64(), true),
      f("value", new Float64(), true),
      f("event", new Utf8(), true),
      f("wall_ms", new Float64(), false),
    ],
    new Map([["augrl.schema", STEP_SCHEMA_ID], ["augrl.step_metrics", JSON.stringify(stepMetrics)]]),
  );
}

/** Arrow schema of episodes.arrows; `episodeMetrics`: the env's episode metric names. */
export function episodeSchema(episodeMetrics: readonly string[] = DEFAULT_EPISODE_METRICS): Schema {
  return new Schema(
    [
      f("run_id", new Utf8(), false),
      f("episode", new Int32(), false),
      f("agent", new Utf8(), false),
      f("seed", new Utf8(), false),
      f("steps", new Int32(), false),
      f("return", new Float64(), false),
      ...uniqueColumns("valid", episodeMetrics).map((c) => f(c, new Float64(), true)),
      ...uniqueColumns("test", episodeMetrics).map((c) => f(c, new Float64(), true)),
      f("duration_s", new Float64(), false),
      f("extra", new Utf8(), true),
    ],
    new Map([["augrl.schema", EPISODE_SCHEMA_ID], ["augrl.episode_metrics", JSON.stringify(episodeMetrics)]]),
  );
}

/** Arrow schema of updates.arrows. */
export function updateSchema(): Schema {
  return new Schema(
    [
      f("run_id", new Utf8(), false),
      f("update", new Int32(), false),
      f("episode", new Int32(), false),
      f("step", new Int32(), false),
      f("key", new Dictionary(new Utf8(), new Int32(), 1), false),
      f("value", new Float64(), false),
      f("wall_ms", new Float64(), false),
    ],
    new Map([["augrl.schema", UPDATE_SCHEMA_ID]]),
  );
}

/** `<prefix>_<m>` per metric; two names with the same column stem are an error. */
function uniqueColumns(prefix: string, metrics: readonly string[]): string[] {
  const cols = metrics.map((m) => `${prefix}_${metricColumn(m)}`);
  const dup = cols.find((c, i) => cols.indexOf(c) !== i);
  if (dup) throw new RangeError(`metric names ${JSON.stringify(metrics)} give the column \`${dup}\` twice; rename one metric`);
  return cols;
}

/** Fields a caller must give to `makeStepRow`; the rest default as documented there. */
export type StepRowInput = Pick<StepRow, "run_id" | "episode" | "step" | "ops" | "magnitudes" | "train_loss" | "observation" | "wall_ms"> &
  Partial<Omit<StepRow, "run_id" | "episode" | "step" | "ops" | "magnitudes" | "train_loss" | "observation" | "wall_ms">>;

/**
 * Build a complete `StepRow`: `op` defaults to `ops.join("+")` (or `none`), `magnitude` to
 * `magnitudes[0]` (or 0), `branch` to 0, every nullable field to null (metric columns left out
 * are null in the file).
 */
export function makeStepRow(input: StepRowInput): StepRow {
  if (input.ops.length !== input.magnitudes.length) {
    throw new RangeError(
      `makeStepRow: \`magnitudes\` must have one entry per op, got ${input.magnitudes.length} for ops [${input.ops.join(", ")}]`,
    );
  }
  return {
    branch: 0,
    op: input.ops.length > 0 ? input.ops.join("+") : "none",
    magnitude: input.magnitudes[0] ?? 0,
    reward: null,
    log_prob: null,
    value: null,
    event: null,
    ...input,
  } as StepRow;
}

/** Fields a caller must give to `makeEpisodeRow`; metrics and `extra` default to null. */
export type EpisodeRowInput = Pick<EpisodeRow, "run_id" | "episode" | "agent" | "seed" | "steps" | "return" | "duration_s"> &
  Partial<EpisodeRow>;

/** Build a complete `EpisodeRow` (metric columns left out are null in the file). */
export function makeEpisodeRow(input: EpisodeRowInput): EpisodeRow {
  return { extra: null, ...input } as EpisodeRow;
}

/** Metric names of a steps/episodes schema from its metadata (v1 files: the recommender's). */
export function schemaMetrics(schema: Schema, kind: "step" | "episode"): string[] {
  const raw = schema.metadata.get(kind === "step" ? "augrl.step_metrics" : "augrl.episode_metrics");
  if (raw) return JSON.parse(raw) as string[];
  return [...(kind === "step" ? DEFAULT_STEP_METRICS : DEFAULT_EPISODE_METRICS)];
}
