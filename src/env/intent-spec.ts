/**
 * Intent env specs: JSON files under envs/ with `"kind": "intent"` that say which intent data,
 * which classifier, which text ops and which reward an `IntentEnv` uses. Validated at load; every
 * error names the file and the key path. Paths are relative to the spec file.
 *
 * Recommender specs (src/env/spec.ts) have no `kind`; `specKind` tells the two apart.
 *
 * The dataset seed (`dataset.seed`) fixes the validation split, the k-shot subset and the
 * pseudo-out-of-scope sample, so every arm and every episode of an experiment sees the same rows;
 * the episode seed drives initialisation, batch order, dropout and augmentation.
 */
import * as path from "node:path";
import { z } from "zod";
import { Rng } from "../core/rng.ts";
import { parseWith, readJsonFile } from "../core/validate.ts";
import { buildIntentData, loadIntentCsv, type IntentCsvOptions, type IntentData, type IntentSplitOptions } from "../data/intents.ts";
import { INTENT_CLASSIFIER_DEFAULTS, type IntentClassifierConfig } from "../models/intent-classifier.ts";

const unit = z.number().min(0).max(1);
const posInt = z.int().min(1);
const open01 = z.number().gt(0).lt(1);

const datasetSchema = z.strictObject({
  /** Short name for logs; default the spec's name. */
  name: z.string().min(1).optional(),
  train: z.string().min(1),
  test: z.string().min(1),
  textColumn: z.string().min(1).optional(),
  labelColumn: z.string().min(1).optional(),
  /** k-shot: train on this many rows per intent (seeded by `seed`). */
  shots: posInt.optional(),
  /** Without `shots`: fraction of each intent's train rows held out for validation. */
  validFraction: open01.optional(),
  /** With `shots`: validation rows per intent, from the train rows outside the k-shot subset. */
  validPerLabel: posInt.optional(),
  /** Seed of the split, the k-shot subset and the pseudo-out-of-scope sample. */
  seed: z.int().optional(),
});

const oosSchema = z.strictObject({
  /** Test label of out-of-scope rows, e.g. HINT3's `NO_NODES_DETECTED`. */
  label: z.string().min(1).optional(),
  /**
   * How the confidence threshold is chosen (never on test data): `none` (no rejection),
   * `quantile` (reject the least confident `quantile` of validation rows), `pseudo` (maximise
   * balanced accuracy between validation rows and pseudo-out-of-scope queries) or
   * `pseudo-quantile` (reject a fraction `pseudoReject` of the pseudo-out-of-scope queries).
   */
  rule: z.enum(["none", "quantile", "pseudo", "pseudo-quantile"]).optional(),
  quantile: open01.optional(),
  /** `pseudo-quantile`: fraction of the pseudo-out-of-scope queries rejected (default 0.95). */
  pseudoReject: open01.optional(),
  pseudo: z.strictObject({
    path: z.string().min(1),
    rows: posInt.optional(),
    textColumn: z.string().min(1).optional(),
    labelColumn: z.string().min(1).optional(),
  }).optional(),
});

const modelSchema = z.strictObject({
  arch: z.enum(["bag", "cnn"]), dim: posInt.max(1024), hidden: z.int().min(0).max(4096), filters: posInt.max(1024), kernel: posInt.max(8),
  dropout: z.number().min(0).max(0.95), labelSmoothing: z.number().min(0).lt(1), initStd: z.number().gt(0).max(1),
  buckets: posInt.max(1 << 22), minN: z.int().min(0).max(8), maxN: z.int().min(0).max(8), wordBigrams: z.boolean(), maxWords: posInt.max(512),
}).partial();

const trainingSchema = z.strictObject({ epochs: posInt, batchSize: posInt, learningRate: z.number().gt(0).max(1) }).partial();

const rewardSchema = z.strictObject({
  /** delta: change of the validation metric at each evaluation; final: the metric at the horizon. */
  kind: z.enum(["delta", "final"]),
  /** `accuracy`, `macro_f1` or `cross_entropy` (a loss: the reward is its decrease). */
  /** `oos_balanced`: ½·(valid rows accepted and correct + pseudo-out-of-scope queries rejected) at the best threshold (needs `oos.pseudo`). */
  metric: z.enum(["accuracy", "macro_f1", "cross_entropy", "oos_balanced"]),
  /** Validation rows in the fixed seeded reward subset (all rows when the split is smaller). */
  validRows: posInt,
  evalEvery: posInt,
  scale: z.number().gt(0),
});

const transformerSchema = z.strictObject({
  /** Folder of local transformers.js models (default `$AUGRL_MODEL_DIR` or `models`). */
  modelDir: z.string().min(1).optional(),
  /** Fill-mask model id for `mlm-substitute`. */
  mlmModel: z.string().min(1).optional(),
  /** Translation model pairs for `back-translate`. */
  pivots: z.array(z.strictObject({ forward: z.string().min(1), backward: z.string().min(1) })).min(1).optional(),
});

const rlSchema = z.strictObject({
  ops: z.array(z.string()).min(1),
  magnitudeBins: z.array(unit).min(1),
  slots: posInt.max(4),
  /** `batch`: every text of the batch is augmented; `sample`: each text with probability `sampleProbability`. */
  applyMode: z.enum(["batch", "sample"]),
  sampleProbability: unit,
  /** `append`: train on the real batch plus its augmented copy (EDA); `direct`: on the augmented batch only. */
  mode: z.enum(["append", "direct"]),
  batchesPerStep: posInt,
  /** Training epochs per episode (default `training.epochs`). */
  budget: z.strictObject({ epochs: z.number().gt(0) }),
  reward: rewardSchema,
  checkpointEvery: z.int().min(0),
  transformer: transformerSchema,
  /** Paired branches per stage of `stageSteps` steps (src/cli/branches.ts); count 1 = none. */
  branches: z.strictObject({ count: posInt.max(64), stageSteps: posInt }),
});

export const intentSpecSchema = z.strictObject({
  kind: z.literal("intent"),
  name: z.string().min(1),
  description: z.string().optional(),
  dataset: datasetSchema,
  oos: oosSchema.optional(),
  model: modelSchema.optional(),
  training: trainingSchema.optional(),
  rl: rlSchema.partial().extend({ reward: rewardSchema.partial().optional(), budget: z.strictObject({ epochs: z.number().gt(0) }).optional(), branches: rlSchema.shape.branches.partial().optional() }).optional(),
});

export type IntentSpecFile = z.infer<typeof intentSpecSchema>;

export const INTENT_TRAINING_DEFAULTS = { epochs: 30, batchSize: 32, learningRate: 0.005 };

/** Text ops of the default action space (identity first). */
export const INTENT_DEFAULT_OPS = ["identity", "wordnet-synonym", "word-delete", "word-swap", "word-insert", "typo", "split-recombine", "pad-truncate"];

export interface ResolvedIntentRl {
  ops: string[];
  magnitudeBins: number[];
  slots: number;
  applyMode: "batch" | "sample";
  sampleProbability: number;
  mode: "append" | "direct";
  batchesPerStep: number;
  budget: { epochs: number };
  reward: z.infer<typeof rewardSchema>;
  checkpointEvery: number;
  transformer: z.infer<typeof transformerSchema>;
  branches: { count: number; stageSteps: number };
}

/** How the out-of-scope threshold is chosen (see `chooseThreshold` in intent-env.ts). */
export type OosRule = "none" | "quantile" | "pseudo" | "pseudo-quantile";

/** Rules that need the pseudo-out-of-scope sample (`oos.pseudo`). */
export function usesPseudoOos(rule: OosRule): boolean {
  return rule === "pseudo" || rule === "pseudo-quantile";
}

/** A spec with every default filled in and paths made absolute: what a run records. */
export interface ResolvedIntentEnvSpec {
  kind: "intent";
  name: string;
  description?: string;
  source: string;
  dataset: {
    name: string; train: string; test: string; textColumn?: string; labelColumn?: string;
    shots?: number; validFraction: number; validPerLabel: number; seed: number;
  };
  oos: {
    label?: string; rule: OosRule; quantile: number; pseudoReject: number;
    pseudo?: { path: string; rows: number; textColumn?: string; labelColumn?: string };
  };
  model: IntentClassifierConfig;
  training: typeof INTENT_TRAINING_DEFAULTS;
  rl: ResolvedIntentRl;
}

/**
 * An op name's base op and copies: `word-swap-x4` is `word-swap` making 4 independent augmented
 * copies of each utterance (EDA's n_aug), so an action space can offer how much augmentation as
 * well as which (a policy then chooses both). Without the suffix: 1 copy.
 */
export function parseCopies(name: string): { base: string; copies: number } {
  const m = /^(.+)-x(\d+)$/.exec(name);
  if (!m) return { base: name, copies: 1 };
  const copies = Number(m[2]);
  if (!(copies >= 1 && copies <= 64)) throw new Error(`op "${name}": the copies suffix -xN needs N in [1, 64], got ${m[2]}`);
  return { base: m[1]!, copies };
}

/** `intent` for specs with `"kind": "intent"`, `recommender` for specs without `kind`. */
export function specKind(file: string): "intent" | "recommender" {
  const raw = readJsonFile(file, "env spec", "pass an env spec such as envs/hint3-sofmattress.json");
  const kind = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>).kind : undefined;
  if (kind === undefined) return "recommender";
  if (kind === "intent") return "intent";
  throw new Error(`${file}: invalid env spec\n  \`kind\`: must be "intent" or absent (a recommender spec); got ${JSON.stringify(kind)}`);
}

function invalid(file: string, key: string, what: string, got: unknown): Error {
  return new Error(`${file}: invalid env spec\n  \`${key}\`: ${what}; got ${JSON.stringify(got)}`);
}

/** Read, validate and resolve an intent env spec file. */
export function loadIntentEnvSpec(file: string): ResolvedIntentEnvSpec {
  const raw = parseWith(intentSpecSchema, readJsonFile(file, "env spec", "pass an intent env spec such as envs/hint3-sofmattress.json"), file, "env spec");
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const d = raw.dataset;
  if (d.shots === undefined && d.validPerLabel !== undefined) throw invalid(file, "dataset.validPerLabel", "only applies with `dataset.shots` (use `validFraction` for the full set)", d.validPerLabel);
  if (d.shots !== undefined && d.validFraction !== undefined) throw invalid(file, "dataset.validFraction", "does not apply with `dataset.shots` (use `validPerLabel`)", d.validFraction);
  const dataset: ResolvedIntentEnvSpec["dataset"] = {
    name: d.name ?? raw.name, train: abs(d.train), test: abs(d.test),
    validFraction: d.validFraction ?? 0.2, validPerLabel: d.validPerLabel ?? 5, seed: d.seed ?? 1,
  };
  if (d.textColumn) dataset.textColumn = d.textColumn;
  if (d.labelColumn) dataset.labelColumn = d.labelColumn;
  if (d.shots !== undefined) dataset.shots = d.shots;

  const o = raw.oos ?? {};
  const rule = o.rule ?? (o.pseudo ? "pseudo" : "none");
  if (usesPseudoOos(rule) && !o.pseudo) throw invalid(file, "oos.pseudo", `is required with \`oos.rule: "${rule}"\` (e.g. {"path": "data/banking77/train.csv"})`, undefined);
  if (rule !== "quantile" && o.quantile !== undefined) throw invalid(file, "oos.quantile", 'only applies with `oos.rule: "quantile"`', o.quantile);
  if (rule !== "pseudo-quantile" && o.pseudoReject !== undefined) throw invalid(file, "oos.pseudoReject", 'only applies with `oos.rule: "pseudo-quantile"`', o.pseudoReject);
  const oos: ResolvedIntentEnvSpec["oos"] = { rule, quantile: o.quantile ?? 0.05, pseudoReject: o.pseudoReject ?? 0.95 };
  if (o.label) oos.label = o.label;
  if (o.pseudo && usesPseudoOos(rule)) {
    oos.pseudo = { path: abs(o.pseudo.path), rows: o.pseudo.rows ?? 500 };
    if (o.pseudo.textColumn) oos.pseudo.textColumn = o.pseudo.textColumn;
    if (o.pseudo.labelColumn) oos.pseudo.labelColumn = o.pseudo.labelColumn;
  }

  const training = { ...INTENT_TRAINING_DEFAULTS, ...raw.training };
  const model: IntentClassifierConfig = { ...INTENT_CLASSIFIER_DEFAULTS, ...raw.model, learningRate: training.learningRate };
  if (model.minN > model.maxN) throw invalid(file, "model.minN", `must be <= model.maxN (${model.maxN})`, model.minN);

  const r = raw.rl ?? {};
  const rl: ResolvedIntentRl = {
    ops: r.ops ?? [...INTENT_DEFAULT_OPS],
    magnitudeBins: r.magnitudeBins ?? [0.1, 0.2, 0.3, 0.5],
    slots: r.slots ?? 1,
    applyMode: r.applyMode ?? "batch",
    sampleProbability: r.sampleProbability ?? 0.5,
    mode: r.mode ?? "append",
    batchesPerStep: r.batchesPerStep ?? 1,
    budget: r.budget ?? { epochs: training.epochs },
    reward: { kind: "delta", metric: "accuracy", validRows: 2000, evalEvery: 1, scale: 100, ...r.reward },
    checkpointEvery: r.checkpointEvery ?? 0,
    branches: { count: 1, stageSteps: 1, ...r.branches },
    transformer: { ...r.transformer },
  };
  if (rl.ops[0] !== "identity") throw invalid(file, "rl.ops", 'the first op must be "identity" (the agents\' no-augmentation action)', rl.ops[0]);
  for (const op of rl.ops) {
    try {
      parseCopies(op);
    } catch (e) {
      throw invalid(file, "rl.ops", (e as Error).message, rl.ops);
    }
  }
  const dup = rl.ops.find((op, i) => rl.ops.indexOf(op) !== i);
  if (dup) throw invalid(file, "rl.ops", `lists "${dup}" twice; each op once`, rl.ops);
  if (rl.transformer.modelDir) rl.transformer.modelDir = abs(rl.transformer.modelDir);

  const spec: ResolvedIntentEnvSpec = { kind: "intent", name: raw.name, source: path.resolve(file), dataset, oos, model, training, rl };
  if (raw.description) spec.description = raw.description;
  return spec;
}

/** What an `IntentEnv` trains and evaluates on, loaded from a resolved spec. */
export interface IntentSpecData {
  data: IntentData;
  /** Pseudo-out-of-scope queries for the rules that use them (empty otherwise). */
  pseudoOos: string[];
}

/**
 * Load the spec's train and test files, carve validation (and the k-shot subset) with the dataset
 * seed, and draw the pseudo-out-of-scope sample (queries also present in train or validation
 * are left out, so no in-scope row is ever a negative).
 */
export function loadIntentSpecData(spec: ResolvedIntentEnvSpec): IntentSpecData {
  const d = spec.dataset;
  const columns = (c: { textColumn?: string; labelColumn?: string }): IntentCsvOptions => ({
    ...(c.textColumn ? { textColumn: c.textColumn } : {}), ...(c.labelColumn ? { labelColumn: c.labelColumn } : {}),
  });
  const root = new Rng(d.seed, "dataset");
  const split: IntentSplitOptions = { name: d.name, seed: d.seed, validFraction: d.validFraction, validPerLabel: d.validPerLabel };
  if (d.shots !== undefined) split.shots = d.shots;
  if (spec.oos.label) split.oosLabel = spec.oos.label;
  const data = buildIntentData(loadIntentCsv(d.train, columns(d)), loadIntentCsv(d.test, columns(d)), split, root);
  let pseudoOos: string[] = [];
  const p = spec.oos.pseudo;
  if (usesPseudoOos(spec.oos.rule) && p) {
    const seen = new Set([...data.train.texts, ...data.valid.texts].map((t) => t.toLowerCase()));
    const pool = [...new Set(loadIntentCsv(p.path, columns(p)).texts)].filter((t) => !seen.has(t.toLowerCase()));
    root.child("pseudo-oos").shuffle(pool);
    pseudoOos = pool.slice(0, p.rows);
  }
  return { data, pseudoOos };
}
