/**
 * Env specs: JSON files under envs/ that say which data, which model, which ops and which reward
 * an experiment uses. Validated at load; every error names the file and the key.
 *
 * Paths inside a spec are relative to the spec file, so a spec and its data move together.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { parseWith, readJsonFile } from "../core/validate.ts";
import { loadDataset } from "../data/load.ts";
import { leaveOneOut, MIN_SPLIT_LENGTH } from "../data/split.ts";
import { formatReport } from "../data/stats.ts";
import type { LeaveOneOutSplit, SeqDataset } from "../data/types.ts";
import { viewOpNames } from "../augment/views.ts";
import { checkModelMemory } from "../models/memory.ts";
import { checkMetricName, DEFAULT_METRICS } from "../models/metrics.ts";
import { CONTRASTIVE_DEFAULTS, SASREC_DEFAULTS } from "../models/sasrec.ts";
import { TRAINER_DEFAULTS } from "../models/trainer.ts";

const unit = z.number().min(0).max(1);
const posInt = z.int().min(1);

const modelSchema = z.strictObject({
  hiddenSize: posInt, numBlocks: posInt, numHeads: posInt, innerSize: posInt,
  activation: z.enum(["gelu", "relu"]), dropout: z.number().min(0).max(0.95), maxLen: posInt.max(512),
  loss: z.enum(["bce", "ce", "sampled-softmax", "gbce"]), negatives: posInt.max(100_000), gbceT: unit,
  learningRate: z.number().gt(0).max(1), initStd: z.number().gt(0).max(1),
  lengthBucketing: z.boolean(), gradientShards: posInt.max(64),
}).partial();

const trainingSchema = z.strictObject({
  epochs: posInt, batchSize: posInt, patience: posInt, evalEvery: posInt, bucketBatches: z.boolean(), selectMetric: z.string(),
  lossNormalization: z.enum(["batch", "epoch"]),
}).partial();

const rewardSchema = z.strictObject({
  /** delta: change of the validation metric; twin: gain over a no-augmentation twin; final: metric at episode end. */
  kind: z.enum(["delta", "twin", "final"]),
  metric: z.string(),
  /** Validation users in the fixed seeded reward subset. */
  validUsers: posInt,
  /** Evaluate the reward metric every this many steps. */
  evalEvery: posInt,
  /** Rewards are multiplied by this (metric deltas are ~1e-3). */
  scale: z.number().gt(0),
});

/** InfoNCE settings of `rl.mode: contrastive` (see src/models/contrastive.ts for defaults and sources). */
const contrastiveSchema = z.strictObject({
  weight: z.number().min(0),
  temperature: z.number().gt(0),
  similarity: z.enum(["cos", "dot"]),
  maskSameTarget: z.boolean(),
});

const rlSchema = z.strictObject({
  ops: z.array(z.string()).min(1),
  magnitudeBins: z.array(unit).min(1),
  slots: posInt.max(4),
  applyMode: z.enum(["batch", "sample"]),
  mode: z.enum(["direct", "append", "contrastive"]),
  contrastive: contrastiveSchema,
  /** Older name of `contrastive.weight`, still read. */
  contrastiveWeight: z.number().min(0).optional(),
  batchesPerStep: posInt,
  budget: z.strictObject({ epochs: z.number().gt(0) }),
  reward: rewardSchema,
  checkpointEvery: z.int().min(0),
  /**
   * Paired branches (src/cli/branches.ts): `count` copies of the training run start every stage
   * of `stageSteps` steps from the same state, differ only in the actions sampled, and the best
   * is kept. `count: 1` (default) plays one trajectory.
   */
  branches: z.strictObject({ count: posInt.max(64), stageSteps: posInt }),
  /**
   * Start every episode from this saved model (weights and Adam moments, see
   * src/models/model-file.ts) instead of fresh weights; path relative to the spec file.
   */
  warmStart: z.string().min(1).optional(),
});

const filePath = z.string().min(1, "must name a file or folder, relative to the spec file");

export const envSpecSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  dataset: z.strictObject({
    path: filePath,
    name: z.string().optional(),
    titles: filePath.optional(),
    attributes: filePath.optional(),
    /** `error` (default): stop at the first bad row, naming file:line; `skip`: drop bad rows and log how many. */
    onBadRow: z.enum(["error", "skip"]).optional(),
  }),
  model: modelSchema.optional(),
  training: trainingSchema.optional(),
  rl: rlSchema.partial().extend({ reward: rewardSchema.partial().optional(), branches: rlSchema.shape.branches.partial().optional(), contrastive: contrastiveSchema.partial().optional() }).optional(),
});

export type EnvSpecFile = z.infer<typeof envSpecSchema>;

export const RL_DEFAULTS: z.infer<typeof rlSchema> = {
  ops: ["identity", "crop", "mask", "reorder", "substitute", "insert", "item-dropout"],
  magnitudeBins: [0.1, 0.2, 0.3, 0.5],
  slots: 1,
  applyMode: "batch",
  mode: "direct",
  contrastive: CONTRASTIVE_DEFAULTS,
  batchesPerStep: 1,
  budget: { epochs: 2 },
  reward: { kind: "delta", metric: "NDCG@10", validUsers: 2000, evalEvery: 8, scale: 100 },
  checkpointEvery: 0,
  branches: { count: 1, stageSteps: 1 },
};

/** A spec with every default filled in and paths made absolute: what a run records. */
export interface ResolvedEnvSpec {
  name: string;
  description?: string;
  source: string;
  dataset: { path: string; name?: string; titles?: string; attributes?: string; onBadRow?: "error" | "skip" };
  model: typeof SASREC_DEFAULTS;
  training: typeof TRAINER_DEFAULTS;
  rl: typeof RL_DEFAULTS;
}

/** Read, validate and resolve an env spec file. */
export function loadEnvSpec(file: string): ResolvedEnvSpec {
  const raw = parseWith(envSpecSchema, readJsonFile(file, "env spec", "pass an env spec such as envs/beauty-sasrec.json"), file, "env spec");
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
  const rl = { ...RL_DEFAULTS, ...raw.rl, reward: { ...RL_DEFAULTS.reward, ...raw.rl?.reward }, branches: { ...RL_DEFAULTS.branches, ...raw.rl?.branches }, contrastive: { ...RL_DEFAULTS.contrastive, ...raw.rl?.contrastive } };
  if (rl.contrastiveWeight !== undefined) {
    if (raw.rl?.contrastive?.weight !== undefined) {
      throw new Error(`${file}: invalid env spec\n  \`rl.contrastiveWeight\`: the older name of \`rl.contrastive.weight\`, and both are set (${rl.contrastiveWeight} and ${raw.rl.contrastive.weight}); keep only \`rl.contrastive.weight\``);
    }
    rl.contrastive.weight = rl.contrastiveWeight;
    delete rl.contrastiveWeight;
  }
  const model = { ...SASREC_DEFAULTS, ...raw.model };
  if (model.hiddenSize % model.numHeads !== 0) {
    throw new Error(`${file}: invalid env spec\n  \`model.numHeads\`: must divide model.hiddenSize (${model.hiddenSize}); got ${model.numHeads}`);
  }
  const training = { ...TRAINER_DEFAULTS, ...raw.training };
  // The trainer selects on a metric every validation reports; a name outside that list would
  // only surface after the last epoch, as a crash.
  if (!(DEFAULT_METRICS as readonly string[]).includes(training.selectMetric)) {
    throw new Error(`${file}: invalid env spec\n  \`training.selectMetric\`: must be one of ${DEFAULT_METRICS.join(", ")} (the metrics every validation reports); got ${JSON.stringify(training.selectMetric)}`);
  }
  try {
    checkMetricName(rl.reward.metric);
  } catch (e) {
    throw new Error(`${file}: invalid env spec\n  \`rl.reward.metric\`: ${(e as Error).message}; got ${JSON.stringify(rl.reward.metric)}`);
  }
  if (rl.ops[0] !== "identity") {
    throw new Error(`${file}: invalid env spec\n  \`rl.ops\`: the first op must be "identity" (the agents' no-augmentation action); got ${JSON.stringify(rl.ops[0])}`);
  }
  const views = rl.ops.filter((o) => viewOpNames.includes(o));
  if (views.length && rl.mode !== "contrastive") {
    throw new Error(`${file}: invalid env spec\n  \`rl.ops\`: ${views.join(", ")} make contrastive views and need \`rl.mode: "contrastive"\`; got mode ${JSON.stringify(rl.mode)}`);
  }
  if (views.length && rl.slots > 1) {
    throw new Error(`${file}: invalid env spec\n  \`rl.slots\`: view ops (${views.join(", ")}) stand alone in an action, so \`rl.slots\` must be 1; got ${rl.slots}`);
  }
  if (rl.warmStart !== undefined) rl.warmStart = abs(rl.warmStart);
  const dataset: ResolvedEnvSpec["dataset"] = { path: abs(raw.dataset.path)! };
  if (raw.dataset.name) dataset.name = raw.dataset.name;
  if (raw.dataset.titles) dataset.titles = abs(raw.dataset.titles)!;
  if (raw.dataset.attributes) dataset.attributes = abs(raw.dataset.attributes)!;
  if (raw.dataset.onBadRow) dataset.onBadRow = raw.dataset.onBadRow;
  const spec: ResolvedEnvSpec = {
    name: raw.name,
    source: path.resolve(file),
    dataset,
    model,
    training,
    rl,
  };
  if (raw.description) spec.description = raw.description;
  return spec;
}

/** Options of `loadSpecData`. */
export interface SpecDataOptions {
  /** Receives what the data lost: skipped rows (`dataset.onBadRow: "skip"`), users too short for the split. Default: nothing printed. */
  log?: (line: string) => void;
  /** Machine memory the model check compares with. Default `os.totalmem()`. */
  totalMemory?: number;
  /** tf's backend name for the model check (`tensorflow` lifts the wasm heap cap). Default: the active one. */
  tfBackend?: string;
}

/**
 * Load the dataset a spec names and split it leave-one-out. Fails before any model exists if a
 * path is missing or the model would not fit in memory (src/models/memory.ts).
 */
export function loadSpecData(spec: ResolvedEnvSpec, opts: SpecDataOptions = {}): { dataset: SeqDataset; split: LeaveOneOutSplit } {
  for (const key of ["path", "titles", "attributes"] as const) {
    const p = spec.dataset[key];
    if (p !== undefined && !fs.existsSync(p)) {
      throw new Error(`${spec.source}: \`dataset.${key}\` ${p} not found; paths are relative to the spec file`);
    }
  }
  const dataset = loadDataset({ ...spec.dataset, skipHint: `set "onBadRow": "skip" under \`dataset\` in ${spec.source}` });
  for (const report of dataset.reports) {
    const lost = formatReport(report);
    if (lost) opts.log?.(`[augrl] ${lost}`);
  }
  const split = leaveOneOut(dataset);
  checkModelMemory(spec.source, spec.model, dataset.numItems, split.train.length, {
    totalMemory: opts.totalMemory ?? os.totalmem(),
    // The backend is chosen before data is loaded; none yet means wasm or cpu, both capped.
    tfBackend: opts.tfBackend ?? tf.getBackend(),
  });
  if (split.excludedUsers) {
    opts.log?.(
      `[augrl] ${dataset.name}: ${split.excludedUsers} of ${dataset.sequences.length} users have fewer than ${MIN_SPLIT_LENGTH} items ` +
        "and are left out (each needs a training item, a validation and a test item)",
    );
  }
  return { dataset, split };
}

/** Load an env spec file and its data. */
export async function loadEnvData(file: string, opts: SpecDataOptions = {}): Promise<{ dataset: SeqDataset; split: LeaveOneOutSplit }> {
  return loadSpecData(loadEnvSpec(file), opts);
}
