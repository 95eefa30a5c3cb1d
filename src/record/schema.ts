/**
 * Row types and Arrow schemas of the two run logs: `steps.arrows` (one row per env step) and
 * `episodes.arrows` (one row per finished episode). docs/arrow-schema.md is the reference.
 *
 * Row keys equal Arrow column names (snake_case) so that a row read back from a file, a row
 * sent to the monitor and a row built by the run loop are the same object shape.
 *
 * Version history: v1 (schema metadata `augrl.schema` = `steps/1`, `episodes/1`).
 */
import { Dictionary, Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8 } from "apache-arrow";

/** Value of the `augrl.schema` metadata key of steps.arrows. */
export const STEP_SCHEMA_ID = "steps/1";
/** Value of the `augrl.schema` metadata key of episodes.arrows. */
export const EPISODE_SCHEMA_ID = "episodes/1";

/**
 * One env step. A step applies one sub-policy: one or more ops, each with its own magnitude.
 * `ops`/`magnitudes` hold all of them in application order; `op`/`magnitude` are the
 * single-valued summary that most plots need (see docs/arrow-schema.md).
 */
export interface StepRow {
  run_id: string;
  /** Episode index, 0-based. */
  episode: number;
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
  /** Mean training loss of the recommendation model over this step's batches. */
  train_loss: number;
  /** Validation NDCG@10 measured at this step; null when not evaluated at this step. */
  valid_ndcg10: number | null;
  /** Validation HR@10 measured at this step; null when not evaluated at this step. */
  valid_hr10: number | null;
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
  valid_ndcg10: number | null;
  valid_hr10: number | null;
  test_ndcg10: number | null;
  test_hr10: number | null;
  test_ndcg20: number | null;
  test_hr20: number | null;
  /** Wall-clock duration of the episode in seconds. */
  duration_s: number;
  /** Any further metrics as a JSON object string (e.g. `{"test_mrr10":0.01}`); null when none. */
  extra: string | null;
}

const f = (name: string, type: ConstructorParameters<typeof Field>[1], nullable: boolean) =>
  new Field(name, type, nullable);

/** Dictionary type of `op`. A fixed id keeps it stable across batches and resumed files. */
export const opDictionaryType = () => new Dictionary(new Utf8(), new Int32(), 0);

/**
 * Arrow schema of steps.arrows.
 * @param observationDim length of the env's observation vector (FixedSizeList size), >= 1.
 */
export function stepSchema(observationDim: number): Schema {
  if (!Number.isInteger(observationDim) || observationDim < 1) {
    throw new RangeError(
      `stepSchema: \`observationDim\` must be an integer >= 1, got ${observationDim}; pass the env's observation length`,
    );
  }
  return new Schema(
    [
      f("run_id", new Utf8(), false),
      f("episode", new Int32(), false),
      f("step", new Int32(), false),
      f("op", opDictionaryType(), false),
      f("magnitude", new Float32(), false),
      f("ops", new List(f("item", new Utf8(), false)), false),
      f("magnitudes", new List(f("item", new Float32(), false)), false),
      f("reward", new Float64(), true),
      f("train_loss", new Float64(), false),
      f("valid_ndcg10", new Float64(), true),
      f("valid_hr10", new Float64(), true),
      f("observation", new FixedSizeList(observationDim, f("item", new Float32(), false)), false),
      f("log_prob", new Float64(), true),
      f("value", new Float64(), true),
      f("event", new Utf8(), true),
      f("wall_ms", new Float64(), false),
    ],
    new Map([["augrl.schema", STEP_SCHEMA_ID]]),
  );
}

/** Arrow schema of episodes.arrows. */
export function episodeSchema(): Schema {
  return new Schema(
    [
      f("run_id", new Utf8(), false),
      f("episode", new Int32(), false),
      f("agent", new Utf8(), false),
      f("seed", new Utf8(), false),
      f("steps", new Int32(), false),
      f("return", new Float64(), false),
      f("valid_ndcg10", new Float64(), true),
      f("valid_hr10", new Float64(), true),
      f("test_ndcg10", new Float64(), true),
      f("test_hr10", new Float64(), true),
      f("test_ndcg20", new Float64(), true),
      f("test_hr20", new Float64(), true),
      f("duration_s", new Float64(), false),
      f("extra", new Utf8(), true),
    ],
    new Map([["augrl.schema", EPISODE_SCHEMA_ID]]),
  );
}

/** Fields a caller must give to `makeStepRow`; the rest default as documented there. */
export type StepRowInput = Pick<StepRow, "run_id" | "episode" | "step" | "ops" | "magnitudes" | "train_loss" | "observation" | "wall_ms"> &
  Partial<Omit<StepRow, "run_id" | "episode" | "step" | "ops" | "magnitudes" | "train_loss" | "observation" | "wall_ms">>;

/**
 * Build a complete `StepRow`: `op` defaults to `ops.join("+")` (or `none`), `magnitude` to
 * `magnitudes[0]` (or 0), every nullable field to null.
 */
export function makeStepRow(input: StepRowInput): StepRow {
  if (input.ops.length !== input.magnitudes.length) {
    throw new RangeError(
      `makeStepRow: \`magnitudes\` must have one entry per op, got ${input.magnitudes.length} for ops [${input.ops.join(", ")}]`,
    );
  }
  return {
    op: input.ops.length > 0 ? input.ops.join("+") : "none",
    magnitude: input.magnitudes[0] ?? 0,
    reward: null,
    valid_ndcg10: null,
    valid_hr10: null,
    log_prob: null,
    value: null,
    event: null,
    ...input,
  };
}

/** Fields a caller must give to `makeEpisodeRow`; metrics and `extra` default to null. */
export type EpisodeRowInput = Pick<EpisodeRow, "run_id" | "episode" | "agent" | "seed" | "steps" | "return" | "duration_s"> &
  Partial<EpisodeRow>;

/** Build a complete `EpisodeRow` with absent metrics set to null. */
export function makeEpisodeRow(input: EpisodeRowInput): EpisodeRow {
  return {
    valid_ndcg10: null,
    valid_hr10: null,
    test_ndcg10: null,
    test_hr10: null,
    test_ndcg20: null,
    test_hr20: null,
    extra: null,
    ...input,
  };
}
