/**
 * Speed benchmark: where the time of a run goes on this machine.
 *
 *   npm run bench:speed -- [--sections train,eval,ops,recorder,monitor,rl] [--env envs/beauty-sasrec.json]
 *                          [--backend auto] [--seed 42] [--epochs-timed 1] [--warmup-batches 4]
 *                          [--full-padding | --no-full-padding] [--full-padding-batches 10]
 *                          [--train-threads auto|N] [--unsharded | --no-unsharded]
 *                          [--eval-repeats 3] [--recorder-rows 20000] [--obs-dim 30]
 *                          [--monitor-clients 10] [--monitor-events 10000] [--monitor-steps 2000]
 *                          [--monitor-work 500000] [--monitor-reps 3] [--intent-envs envs/hint3-sofmattress.json,…]
 *                          [--name speed] [--out-dir bench/results]
 *
 * Sections (names or numbers 1-7), one file each under bench/speed/:
 *   1 train     one SASRec training epoch on the env's data (length-bucketed batches, as
 *               trainSupervised makes them), broken down by padded batch length; and the same
 *               model padding every batch to maxLen with random batches (first K batches, extrapolated);
 *               with model.gradientShards > 1, also one epoch of the unsharded model on one thread
 *   2 eval      full-ranking evaluation of every user on the validation target (median of repeats)
 *   3 ops       benchOps(): per-op time on a 256-user batch, target <= 2 ms for sequence/label ops
 *   4 recorder  Arrow IPC stream recorder: step rows written and read back per second
 *   5 monitor   publish cost per event, and a CPU-bound fake training loop with 0 vs N ws clients
 *   6 rl        RL overhead: one epoch of plain training against `rl-train run` episodes of the
 *               same budget with the none, reinforce and ppo agents
 *   7 intent    one IntentEnv episode per `--intent-envs` spec (identity every step) and each
 *               text op's time per 1,000 real utterances
 *
 * Each section runs on its own: one that throws records its error and the others still run.
 * Writes <out-dir>/<name>.json and .md after every section (status "running", then
 * "finished"); progress goes to stderr, the markdown to stdout at the end (bench/speed/run.ts).
 * This file only parses the flags; it runs the benchmark when started as a script.
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseThreads } from "../src/cli/options.ts";
import type { BackendChoice } from "../src/tf/backend.ts";
import { parseSections } from "./speed-lib.ts";
import type { SpeedOptions } from "./speed/context.ts";
import { runSpeed, type SpeedOutput } from "./speed/run.ts";

/** The benchmark's options and output from command-line flags (`args` without node and the script). */
export function parseSpeedArgs(args: string[]): { opts: SpeedOptions; output: SpeedOutput } {
  const { values: a } = parseArgs({
    args,
    allowNegative: true,
    options: {
      sections: { type: "string" },
      env: { type: "string", default: "envs/beauty-sasrec.json" },
      backend: { type: "string", default: "auto" },
      seed: { type: "string", default: "42" },
      "epochs-timed": { type: "string", default: "1" },
      "warmup-batches": { type: "string", default: "4" },
      /** Smoke tests only: time just the first N batches of the bucketed epoch (the result says so). */
      "train-batches": { type: "string" },
      "full-padding": { type: "boolean", default: true },
      "full-padding-batches": { type: "string", default: "10" },
      "train-threads": { type: "string", default: "auto" },
      unsharded: { type: "boolean", default: true },
      "eval-repeats": { type: "string", default: "3" },
      "recorder-rows": { type: "string", default: "20000" },
      "obs-dim": { type: "string", default: "30" },
      "monitor-clients": { type: "string", default: "10" },
      "monitor-events": { type: "string", default: "10000" },
      "monitor-steps": { type: "string", default: "2000" },
      "monitor-work": { type: "string", default: "500000" },
      "monitor-reps": { type: "string", default: "3" },
      "intent-envs": { type: "string", default: "envs/hint3-sofmattress.json,envs/hint3-curekart.json,envs/banking77-10shot.json,envs/banking77-30shot.json,envs/banking77-full.json" },
      name: { type: "string", default: "speed" },
      "out-dir": { type: "string", default: "bench/results" },
    },
  });

  const intArg = (name: keyof typeof a, min = 1): number => {
    const raw = a[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`\`--${name}\` must be an integer >= ${min}; got "${String(raw)}"`);
    return n;
  };

  const opts: SpeedOptions = {
    sections: parseSections(a.sections),
    env: a.env!,
    backend: a.backend as BackendChoice,
    seed: Number(a.seed),
    epochsTimed: intArg("epochs-timed"),
    warmupBatches: intArg("warmup-batches", 0),
    trainBatches: a["train-batches"] === undefined ? undefined : intArg("train-batches"),
    fullPadding: a["full-padding"]!,
    fullPaddingBatches: intArg("full-padding-batches"),
    trainThreads: parseThreads("--train-threads", a["train-threads"]),
    unsharded: a.unsharded!,
    evalRepeats: intArg("eval-repeats"),
    recorderRows: intArg("recorder-rows"),
    obsDim: intArg("obs-dim"),
    monitorClients: intArg("monitor-clients"),
    monitorEvents: intArg("monitor-events"),
    monitorSteps: intArg("monitor-steps"),
    monitorWork: intArg("monitor-work"),
    monitorReps: intArg("monitor-reps"),
    intentEnvs: a["intent-envs"]!.split(",").map((s) => s.trim()).filter(Boolean),
  };
  return { opts, output: { name: a.name!, outDir: a["out-dir"]! } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const log = (line: string) => console.error(`[speed] ${line}`);
  const { opts, output } = parseSpeedArgs(process.argv.slice(2));
  const { markdown, failed } = await runSpeed(opts, output, log);
  process.stdout.write(markdown + "\n");
  if (failed.length) {
    log(`sections that failed: ${failed.join(", ")}`);
    process.exitCode = 1;
  }
}
