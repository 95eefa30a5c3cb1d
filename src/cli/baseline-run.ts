/**
 * `rl-train baseline`: train SASRec without augmentation, select the epoch with the best
 * validation metric, report validation and test metrics with their protocol.
 *
 * The plain function behind src/cli/baseline.ts (nx shape): tests call `runBaseline` directly.
 * A run writes `<out>/<run-id>/config.json` before training starts (the resolved spec, seed,
 * backend and provenance: enough to rerun it) and `summary.json` when it ends.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import cliProgress from "cli-progress";
import { Rng } from "../core/rng.ts";
import { createRunDir, makeRunId, runMetadata, type RunMetadata } from "../core/run-id.ts";
import { loadEnvSpec, loadSpecData, type ResolvedEnvSpec } from "../env/spec.ts";
import type { EvalResult } from "../models/evaluate.ts";
import type { TrainBatch } from "../data/types.ts";
import { DEFAULT_METRICS, describeProtocol, type Protocol } from "../models/metrics.ts";
import { SASRec } from "../models/sasrec.ts";
import { trainSupervised, type EpochLog, type TrainerConfig } from "../models/trainer.ts";
import { selectBackend, type BackendChoice, type BackendInfo } from "../tf/backend.ts";
import { createEvalPool } from "../models/eval-pool.ts";
import { createTrainPool } from "../models/train-pool.ts";
import { shardThreads } from "../models/helper-thread.ts";
import { saveModelFile } from "../models/model-file.ts";
import { fixedViewStep } from "../env/fixed-views.ts";
import { checkInteger, checkRunOptions, DEFAULT_OUT_DIR, parseThreads, type RunOptions } from "./options.ts";

/** Options of `runBaseline`; defaults in brackets. */
export interface RunBaselineOptions extends RunOptions {
  /** Env spec JSON, e.g. `envs/beauty-sasrec.json`. */
  env: string;
  /** Root seed. [42] */
  seed?: number;
  /** tf backend. [auto] */
  backend?: BackendChoice;
  /** Folder for run folders. [runs] */
  out?: string;
  /** Most epochs. [the spec's training.epochs] */
  epochs?: number;
  /** Validations without a new best before stopping. [the spec's training.patience] */
  patience?: number;
  /** Validate every N epochs. [the spec's training.evalEvery] */
  evalEvery?: number;
  /** Also write the best-validation model (weights + Adam moments) to runs/<run-id>/model.json, e.g. for `rl.warmStart`. [false] */
  saveModel?: boolean;
  /**
   * `op` or `op:magnitude`: every batch also trains the spec's `rl.contrastive` InfoNCE between
   * the views this op makes (src/augment/views.ts), e.g. `supervised-positive`. [none]
   */
  view?: string;
  /** Threads for full-ranking evaluation (wasm/cpu); ranks never depend on it. [auto = CPU cores, max 4] */
  evalThreads?: number | "auto";
  /** Threads for the gradient shards of a step (model.gradientShards > 1); weights never depend on it. [auto = CPU cores, max 4] */
  trainThreads?: number | "auto";
  /**
   * `bar`: a cli-progress bar on stderr, updated per batch, plus one line per epoch;
   * `lines`: one line per epoch (what a log file wants); `none`. [bar when stderr is a TTY, else lines]
   */
  progress?: "bar" | "lines" | "none";
  /** Receives the result table. [console.log] */
  print?: (text: string) => void;
  /** Receives the backend line and per-epoch lines. [console.error] */
  log?: (line: string) => void;
}

/** What config.json holds. */
export interface BaselineConfigRecord {
  command: "baseline";
  runId: string;
  seed: number;
  /** The env spec with every default filled in and paths absolute. */
  env: ResolvedEnvSpec;
  /** Trainer settings after `--epochs`/`--patience`. */
  training: TrainerConfig;
  dataset: { name: string; users: number; items: number; excludedUsers: number; trainInteractions: number };
  modelParameters: number;
  backend: BackendInfo;
  /** Threads that ran full-ranking evaluation (never changes the ranks). */
  evalThreads: number;
  /** Threads that computed the gradient shards (never changes the weights; see model.gradientShards). */
  trainThreads: number;
  /** The fixed contrastive view trained next to the recommendation loss (`--view`), with `env.rl.contrastive`. */
  view?: { op: string; magnitude: number };
  provenance: RunMetadata;
}

/** One split's result as stored: metrics plus how they were measured. */
export interface StoredEval {
  metrics: Record<string, number>;
  protocol: Protocol & { description: string };
  seconds: number;
}

/** What summary.json holds. */
export interface BaselineSummary {
  command: "baseline";
  runId: string;
  status: "finished";
  /** Epoch whose weights produced `valid` and `test` (best validation `selectMetric`). */
  bestEpoch: number;
  selectMetric: string;
  epochsRun: number;
  stoppedEarly: boolean;
  valid: StoredEval;
  test: StoredEval;
  history: EpochLog[];
  secondsPerEpoch: number;
  wallSeconds: number;
}

export interface RunBaselineResult {
  runId: string;
  runDir: string;
  config: BaselineConfigRecord;
  summary: BaselineSummary;
  /** The table as printed. */
  table: string;
}

export async function runBaseline(options: RunBaselineOptions): Promise<RunBaselineResult> {
  checkRunOptions(options);
  if (options.epochs !== undefined) checkInteger("--epochs", options.epochs, 1);
  if (options.patience !== undefined) checkInteger("--patience", options.patience, 1);
  if (options.evalThreads !== undefined) parseThreads("--eval-threads", options.evalThreads);
  if (options.trainThreads !== undefined) parseThreads("--train-threads", options.trainThreads);
  if (options.evalEvery !== undefined) checkInteger("--eval-every", options.evalEvery, 1);
  if (options.progress !== undefined && !["bar", "lines", "none"].includes(options.progress)) {
    throw new Error(`\`progress\` must be "bar", "lines" or "none"; got ${JSON.stringify(options.progress)}`);
  }
  const view = options.view === undefined ? undefined : parseView(options.view);
  const print = options.print ?? ((s: string) => console.log(s));
  const log = options.log ?? ((s: string) => console.error(s));
  const seed = options.seed ?? 42;
  const progress = options.progress ?? (process.stderr.isTTY ? "bar" : "lines");

  // Everything that can fail on bad input fails before the run folder exists, so a typo leaves no empty run behind.
  const spec = loadEnvSpec(options.env);
  const training: TrainerConfig = {
    ...spec.training,
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    ...(options.patience !== undefined ? { patience: options.patience } : {}),
    ...(options.evalEvery !== undefined ? { evalEvery: options.evalEvery } : {}),
  };
  const backend = await selectBackend(options.backend ?? "auto", log);
  const { split } = loadSpecData(spec, { log });
  const evalPool = createEvalPool(options.evalThreads ?? "auto", backend.name, log);
  const trainPool = createTrainPool(options.trainThreads ?? "auto", backend.name, log);
  const evalThreads = evalPool.threads;
  const trainThreads = shardThreads(spec.model.gradientShards, trainPool.threads);
  const rng = new Rng(seed);
  const model = new SASRec(spec.model, split.dataset.numItems, rng.child("model"), { shardRunner: trainPool });
  let step: ((batch: TrainBatch) => number) | undefined;
  try {
    step = view ? fixedViewStep(spec, split, model, view.op, view.magnitude, rng.child("augment")) : undefined;
  } catch (e) {
    model.dispose();
    throw e;
  }

  try {
    const { runId, dir: runDir } = createRunDir(options.out ?? DEFAULT_OUT_DIR, makeRunId("baseline", seed));
    let trainInteractions = 0;
    for (const s of split.train) trainInteractions += s.length;
    const config: BaselineConfigRecord = {
      command: "baseline",
      runId,
      seed,
      env: spec,
      training,
      dataset: {
        name: split.dataset.name,
        users: split.train.length,
        items: split.dataset.numItems,
        excludedUsers: split.excludedUsers ?? 0,
        trainInteractions,
      },
      modelParameters: model.parameterCount,
      backend,
      evalThreads,
      trainThreads,
      ...(view ? { view } : {}),
      provenance: runMetadata(),
    };
    writeJson(path.join(runDir, "config.json"), config);
    log(
      `[baseline] ${runId}: ${split.dataset.name} ${config.dataset.users} users, ${config.dataset.items} items, ` +
        `${model.parameterCount} parameters, up to ${training.epochs} epochs (patience ${training.patience}) on ${backend.name}`,
    );

    const bar =
      progress === "bar"
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: "epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss} | {seconds}s",
              clearOnComplete: true,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    let epochStart = performance.now();
    let result: ReturnType<typeof trainSupervised>;
    try {
      result = trainSupervised(model, split, rng, training, {
        onBatch(epoch, batch, numBatches, loss) {
          if (!bar) return;
          if (batch === 1) {
            epochStart = performance.now();
            bar.start(numBatches, 0, { epoch, epochs: training.epochs, loss: "-", seconds: "0.0" });
          }
          bar.update(batch, { loss: loss.toFixed(4), seconds: ((performance.now() - epochStart) / 1000).toFixed(1) });
        },
        onEpoch(entry, best) {
          bar?.stop();
          if (progress !== "none") log(epochLine(entry, best, training));
        },
      }, { evalRunner: evalPool, ...(step ? { step } : {}) });
    } finally {
      bar?.stop();
    }

    const summary: BaselineSummary = {
      command: "baseline",
      runId,
      status: "finished",
      bestEpoch: result.bestEpoch,
      selectMetric: training.selectMetric,
      epochsRun: result.epochs.length,
      stoppedEarly: result.stoppedEarly,
      valid: stored(result.valid),
      test: stored(result.test),
      history: result.epochs,
      secondsPerEpoch: result.secondsPerEpoch,
      wallSeconds: result.wallSeconds,
    };
    writeJson(path.join(runDir, "summary.json"), summary);
    if (options.saveModel) {
      // trainSupervised leaves the model at its best-validation state.
      const file = path.join(runDir, "model.json");
      saveModelFile(file, model, { dataset: split.dataset.name, epoch: result.bestEpoch, valid: result.valid.metrics });
      log(`[baseline] saved the epoch-${result.bestEpoch} model to ${file}`);
    }
    const table = resultTable(summary, runDir, view && `contrastive views \`${view.op}\` (magnitude ${view.magnitude}, λ ${spec.rl.contrastive.weight}, τ ${spec.rl.contrastive.temperature}, ${spec.rl.contrastive.similarity})`);
    print(table);
    return { runId, runDir, config, summary, table };
  } finally {
    model.dispose();
    await Promise.all([evalPool.close(), trainPool.close()]);
  }
}

/** `op` or `op:magnitude` (default magnitude 0.2). */
function parseView(v: string): { op: string; magnitude: number } {
  const [op, m] = v.split(":");
  const magnitude = m === undefined ? 0.2 : Number(m);
  if (!op || !(magnitude > 0 && magnitude <= 1)) throw new Error(`\`--view\` must be op or op:magnitude with magnitude in (0, 1], e.g. supervised-positive or crop:0.3; got ${JSON.stringify(v)}`);
  return { op, magnitude };
}

function stored(r: EvalResult): StoredEval {
  return { metrics: r.metrics, protocol: { ...r.protocol, description: describeProtocol(r.protocol) }, seconds: r.seconds };
}

function epochLine(e: EpochLog, best: { epoch: number; value: number }, t: TrainerConfig): string {
  const valid = e.valid
    ? ` | valid ${t.selectMetric} ${e.valid[t.selectMetric]!.toFixed(4)} HR@10 ${e.valid["HR@10"]?.toFixed(4) ?? "-"} (${e.validSeconds!.toFixed(1)}s)` +
      ` | best ${best.value.toFixed(4)} @ epoch ${best.epoch}`
    : "";
  return `[baseline] epoch ${e.epoch}/${t.epochs} | loss ${e.loss.toFixed(4)} | ${e.trainSeconds.toFixed(1)}s${valid}`;
}

/**
 * The validation/test table. The header states the protocol of each row (dataset, split, full
 * ranking, users evaluated) because a number without its protocol cannot be compared.
 */
export function resultTable(s: BaselineSummary, runDir?: string, augmentation?: string): string {
  const cols = [...DEFAULT_METRICS];
  const w = Math.max(...cols.map((c) => c.length), 6) + 2;
  const row = (name: string, cells: string[]) => name.padEnd(7) + cells.map((c) => c.padStart(w)).join("");
  const lines = [
    `SASRec baseline, ${augmentation ?? "no augmentation"}: best epoch ${s.bestEpoch} of ${s.epochsRun} by validation ${s.selectMetric}` +
      (s.stoppedEarly ? " (stopped early)" : ""),
    `valid protocol: ${s.valid.protocol.description}`,
    `test protocol:  ${s.test.protocol.description}`,
    row("split", cols),
    row("valid", cols.map((c) => fmt(s.valid.metrics[c]))),
    row("test", cols.map((c) => fmt(s.test.metrics[c]))),
  ];
  if (runDir) lines.push(`run: ${runDir} (${["config.json", "summary.json", ...(fs.existsSync(path.join(runDir, "model.json")) ? ["model.json"] : [])].join(", ")})`);
  return lines.join("\n");
}

function fmt(v: number | undefined): string {
  return v === undefined || Number.isNaN(v) ? "-" : v.toFixed(4);
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}
