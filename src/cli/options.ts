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

/** `--seed <n>`: the run's one root seed; every random stream is a named child of it. */
export function withSeedOption<T>(y: Argv<T>, defaultSeed = 42) {
  return y.option("seed", { type: "number", default: defaultSeed, describe: "root seed of every random stream in the run" });
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

/** A received value as it would be typed: strings quoted, NaN and Infinity spelled out (JSON turns them into null). */
export function show(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
}
