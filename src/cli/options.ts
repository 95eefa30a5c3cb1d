/**
 * yargs option helpers shared by the commands that train (`rl-train baseline`, `rl-train run`).
 *
 * nx shape: each helper adds one option group to a builder, so every command spells, defaults
 * and documents `--env`, `--seed`, `--backend` and `--out` the same way. The checks that give
 * the option-naming error messages live in plain functions (`checkRunOptions`), because the
 * plain `run…` functions that tests call without yargs must reject bad values too.
 */
import type { Argv } from "yargs";
import { BACKEND_CHOICES, type BackendChoice } from "../tf/backend.ts";
import { parseQueueUrl } from "./queue/url.ts";

/** Default folder that holds one subfolder per run. */
export const DEFAULT_OUT_DIR = "runs";

/** `--env <spec.json>` (required). */
export function withEnvOption<T>(y: Argv<T>) {
  return y.option("env", {
    type: "string",
    demandOption: "pass an env spec, e.g. --env envs/beauty-sasrec.json",
    describe: "env spec JSON: dataset, model and training settings (see envs/)",
  });
}

/**
 * A numeric option: yargs keeps the text as typed and `parseNumberOption` checks it, so
 * `--budget-epochs abc`, `-1` or `1e999` fail with a message naming the option and the value
 * (a plain `type: "number"` would turn them into NaN or Infinity and let them through).
 */
export function numberOption(flag: string, describe: string, rule: NumberRule, defaultValue?: number) {
  return {
    type: "string" as const,
    describe,
    ...(defaultValue === undefined ? {} : { default: String(defaultValue) }),
    coerce: (raw: unknown): number => parseNumberOption(flag, raw, rule),
  };
}

/** Rules shared by every command that takes these options. */
export const SEED_RULE: NumberRule = { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER };
export const PORT_RULE: NumberRule = { integer: true, min: 0, max: 65535 };

/** `--seed <n>`: the run's one root seed; every random stream is a named child of it. */
export function withSeedOption<T>(y: Argv<T>, defaultSeed = 42) {
  return y.option("seed", numberOption("--seed", "root seed of every random stream in the run", SEED_RULE, defaultSeed));
}

/** `--backend auto|gpu|node|wasm|cpu`. */
export function withBackendOption<T>(y: Argv<T>) {
  return y.option("backend", {
    choices: BACKEND_CHOICES,
    default: "auto" as BackendChoice,
    describe: "tf backend; auto tries gpu → node → wasm → cpu and records why each was skipped",
  });
}

/** `--out <dir>`: runs are written to `<out>/<run-id>/`. */
export function withOutOption<T>(y: Argv<T>) {
  return y.option("out", { type: "string", default: DEFAULT_OUT_DIR, describe: "folder for run folders (<out>/<run-id>/)" });
}

/**
 * `--eval-threads auto|N` and `--train-threads auto|N`: threads for full-ranking evaluation and for
 * the shards of a training step (model.gradientShards). Speed settings only: results never depend on them.
 */
export function withThreadsOptions<T>(y: Argv<T>) {
  return y
    .option("eval-threads", {
      type: "string",
      default: "auto",
      describe: "threads for full-ranking evaluation on wasm/cpu (auto = CPU cores, max 4; results never depend on it)",
    })
    .option("train-threads", {
      type: "string",
      default: "auto",
      describe: "threads for the gradient shards of a training step on wasm/cpu (auto = CPU cores, max 4; results never depend on it)",
    });
}

/** Parse a thread-count option (`--eval-threads`, `--train-threads`): "auto" or an integer >= 1. */
export function parseThreads(flag: string, value: unknown): number | "auto" {
  if (value === undefined || value === "auto") return "auto";
  const n = typeof value === "number" ? value : Number(value);
  checkInteger(flag, Number.isNaN(n) ? value : n, 1);
  return n;
}

/** The four options every training command takes. */
export function withRunOptions<T>(y: Argv<T>) {
  return withOutOption(withBackendOption(withSeedOption(withEnvOption(y))));
}

/** Values of the shared options as a plain run function receives them. */
export interface RunOptions {
  env: string;
  seed?: number;
  backend?: BackendChoice | string;
  out?: string;
}

/**
 * Reject values yargs lets through (yargs checks `choices` but not integers) and values passed
 * straight to a plain run function. Messages name the option as typed on the command line.
 */
export function checkRunOptions(o: RunOptions): void {
  if (typeof o.env !== "string" || o.env === "") {
    throw new Error(`\`--env\` is required; got ${show(o.env)}. Pass an env spec, e.g. --env envs/beauty-sasrec.json`);
  }
  if (o.seed !== undefined) checkInteger("--seed", o.seed, 0);
  if (o.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(o.backend)) {
    throw new Error(`\`--backend\` must be one of ${BACKEND_CHOICES.join(", ")}; got ${show(o.backend)}`);
  }
  if (o.out !== undefined && (typeof o.out !== "string" || o.out === "")) {
    throw new Error(`\`--out\` must be a folder path; got ${show(o.out)}. Leave it out to use ${DEFAULT_OUT_DIR}/`);
  }
}

/** Throw unless `value` is an integer >= `min`, naming `option` in the message. */
export function checkInteger(option: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`\`${option}\` must be an integer >= ${min}; got ${show(value)}`);
  }
}

/** What a numeric option accepts. */
export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest accepted value (inclusive unless `exclusiveMin`). */
  min: number;
  exclusiveMin?: boolean;
  /** Largest accepted value (inclusive). */
  max: number;
}

/**
 * A numeric option as typed (`"12"`) or passed by a plain function (`12`), checked against
 * `rule`. The message names the option, shows the value as received and the accepted range;
 * a value past `max` is called too large rather than "not a number".
 */
export function parseNumberOption(option: string, value: unknown, rule: NumberRule): number {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  const kind = rule.integer ? "an integer" : "a number";
  const range = `${rule.exclusiveMin ? ">" : ">="} ${rule.min} and <= ${rule.max}`;
  if (!Number.isFinite(n) && !(n === Infinity && typeof value === "string")) {
    throw new Error(`\`${option}\` must be ${kind} ${range}; got ${show(value)}`);
  }
  if (n > rule.max) throw new Error(`\`${option}\` is too large: ${show(value)}; the largest accepted value is ${rule.max}`);
  if (rule.integer && !Number.isInteger(n)) throw new Error(`\`${option}\` must be ${kind} ${range}; got ${show(value)}`);
  if (rule.exclusiveMin ? n <= rule.min : n < rule.min) throw new Error(`\`${option}\` must be ${kind} ${range}; got ${show(value)}`);
  return n;
}

/** The options of `rl-train run` that take numbers, as the plain function receives them. */
export interface ExperimentNumbers {
  episodes?: unknown;
  seed?: unknown;
  budgetEpochs?: unknown;
  checkpointEvery?: unknown;
  parallelEpisodes?: unknown;
  workers?: unknown;
  monitor?: unknown;
  evalThreads?: unknown;
  trainThreads?: unknown;
  backend?: unknown;
  out?: unknown;
  queue?: unknown;
}

/** Check every option of `rl-train run` / `resume` with the spec's rules, naming the option. Throws on the first bad one. */
export function checkExperimentOptions(o: ExperimentNumbers): void {
  if (o.episodes !== undefined) parseNumberOption("--episodes", o.episodes, { integer: true, min: 1, max: 1_000_000 });
  if (o.seed !== undefined) parseNumberOption("--seed", o.seed, SEED_RULE);
  if (o.budgetEpochs !== undefined) parseNumberOption("--budget-epochs", o.budgetEpochs, { min: 0, exclusiveMin: true, max: 100_000 });
  if (o.checkpointEvery !== undefined) parseNumberOption("--checkpoint-every", o.checkpointEvery, { integer: true, min: 0, max: 1_000_000_000 });
  if (o.parallelEpisodes !== undefined) parseNumberOption("--parallel-episodes", o.parallelEpisodes, { integer: true, min: 1, max: 1024 });
  if (o.workers !== undefined) parseNumberOption("--workers", o.workers, { integer: true, min: 1, max: 256 });
  if (o.monitor !== undefined) parseNumberOption("--monitor", o.monitor, PORT_RULE);
  if (o.evalThreads !== undefined) parseThreads("--eval-threads", o.evalThreads);
  if (o.trainThreads !== undefined) parseThreads("--train-threads", o.trainThreads);
  if (o.queue !== undefined) {
    parseQueueUrl("--queue", o.queue);
    if (o.workers !== undefined) throw new Error(`\`--workers\` (${show(o.workers)}) sets local threads and does not apply with \`--queue\`: each \`rl-train worker\` sets its own --concurrency; drop one of them`);
  }
  if (o.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(o.backend as string)) {
    throw new Error(`\`--backend\` must be one of ${BACKEND_CHOICES.join(", ")}; got ${show(o.backend)}`);
  }
  if (o.out !== undefined && (typeof o.out !== "string" || o.out === "")) {
    throw new Error(`\`--out\` must be a folder path; got ${show(o.out)}. Leave it out to use ${DEFAULT_OUT_DIR}/`);
  }
}

/** A received value as it would be typed: strings quoted, NaN and Infinity spelled out (JSON turns them into null). */
export function show(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
}
