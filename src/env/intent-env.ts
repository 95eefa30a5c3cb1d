/**
 * IntentEnv — training an intent classifier on customer-service queries as an RL environment
 * (Gymnasium contract, `Env` of ./types.ts).
 *
 * Each step the agent picks text-augmentation ops and magnitudes; the env applies them to the
 * next `batchesPerStep` training batches of utterances, trains the classifier
 * (src/models/intent-classifier.ts) on them, and pays a reward from validation metrics.
 *
 * ## Action space
 * `slots` pairs (op index into `actionSpace.ops`, magnitude in [0,1]); `ops[0]` is `identity`.
 * Ops are text ops of the augment registry (`rl.ops`): EDA with WordNet synonyms, deletion,
 * swap, insertion, typos, split/recombine, pad/truncate, and the transformer ops (`mlm-substitute`,
 * `back-translate`, `embed-neighbour`) when their local model is present — otherwise the op is
 * left out of the action space with a message (`skippedOps`). Magnitude = fraction of words
 * touched (each op documents its own meaning). Slots apply in order. An op name may carry a
 * copies suffix, `word-swap-x4`: that op makes 4 independent augmented copies of each utterance
 * (EDA's n_aug), so a space listing `word-swap` and `word-swap-x4` lets a policy choose how much
 * augmentation as well as which (`parseCopies`).
 *
 * ## How an action trains (`rl.mode`, `rl.applyMode`)
 * - `append` (default, as EDA): train on the real batch plus its augmented copy; an
 *   all-identity action trains on the real batch alone, so the `none` agent is plain training.
 * - `direct`: train on the augmented batch instead of the real one.
 * `applyMode: batch` augments every utterance of the batch; `sample` each one independently with
 * probability `sampleProbability` (the copy holds only those). Augmentation never changes a label.
 *
 * ## Observation (Float32Array, length 7 + 2·|ops|; same layout as AugmentEnv)
 * | index | meaning | range |
 * |---|---|---|
 * | 0 | training progress: steps done / horizon (1 after the horizon) | [0, 1] |
 * | 1 | epoch progress: batches done in the current epoch / batches per epoch | [0, 1) |
 * | 2 | last step's training loss (cross-entropy) | ≥ 0 |
 * | 3 | exponential moving average of the loss (α = 0.1) | ≥ 0 |
 * | 4 | last reward-subset validation metric (accuracy, macro-F1 or cross-entropy) | [0, 1] (CE ≥ 0) |
 * | 5 | change of that metric at the last evaluation × `reward.scale` (sign: better > 0) | ℝ |
 * | 6 | previous action's magnitude (slot 0) | [0, 1] |
 * | 7 … 6+|ops| | previous action's op, one-hot (slot 0) | {0, 1} |
 * | 7+|ops| … 6+2·|ops| | per-op running mean reward (EMA, α = 0.2), 0 until the op is tried | ℝ |
 *
 * ## Reward (`rl.reward`, multiplied by `scale`)
 * - `delta`: change of the metric on a fixed seeded subset of `validRows` validation rows,
 *   measured every `evalEvery` steps (0 in between). For `cross_entropy` the decrease is paid.
 * - `final`: 0 until step `horizon`, then the metric itself (negated for cross-entropy).
 * Step metrics are argmax predictions (no out-of-scope threshold: validation has no
 * out-of-scope rows; the threshold is chosen in `finalMetrics`). A non-finite loss or metric
 * rolls the model back to the last good state, pays −1 and records `nan-rollback`.
 *
 * ## Final metrics and the out-of-scope threshold
 * `finalMetrics()` first chooses the confidence threshold below which a query is rejected as
 * out-of-scope, using validation (and pseudo-out-of-scope queries) only, never test labels
 * (`oos.rule`; see `chooseThreshold`), then reports accuracy, in-scope accuracy, out-of-scope
 * recall, macro-F1 and cross-entropy on the full validation and test sets, plus the threshold.
 *
 * ## Start and end
 * `reset({seed})` builds a fresh classifier from the seed (named streams: model/init,
 * model/dropout, batches, augment, reward-rows). Data (split, k-shot subset, pseudo-OOS sample)
 * is fixed by the spec's dataset seed. The env never ends an episode itself: a `TimeLimit`
 * wrapper truncates it after `horizon` = ceil(budget epochs × batches per epoch / batchesPerStep)
 * steps; stepping on trains further epochs. It never ends `terminated`.
 *
 * ## Version history
 * v1: first version.
 */
import { Rng, type RngState } from "../core/rng.ts";
import { textOps } from "../augment/text/index.ts";
import type { TextOp } from "../augment/types.ts";
import type { IntentData } from "../data/intents.ts";
import { IntentClassifier, type IntentClassifierState } from "../models/intent-classifier.ts";
import { getIntentMetric, INTENT_METRICS, intentMetrics, predictWithThreshold, topProbabilities } from "../models/intent-metrics.ts";
import { loadIntentSpecData, type OosRule, parseCopies, type ResolvedIntentEnvSpec, usesPseudoOos } from "./intent-spec.ts";
import { actionPairs, finishStep, foldMeasurement, freshRunStats, observationOf, type RunStats } from "./run-stats.ts";
import type { ActionSpace, EnvAction, EpisodeMetrics, Env, ResetResult, StepInfo, StepResult } from "./types.ts";

export const INTENT_ENV_VERSION = 1;

/** Everything `setState` needs to continue an episode exactly. */
export interface IntentEnvState {
  kind: "intent";
  version: number;
  seed: string;
  stepCount: number;
  epoch: number;
  cursor: number;
  /** The current epoch's row order. */
  order: number[];
  batchRng: RngState;
  augmentRng: RngState;
  model: IntentClassifierState;
  goodModel?: IntentClassifierState;
  stats: RunStats;
}

/** How a threshold was chosen, for the run log. */
export interface ThresholdChoice {
  threshold: number;
  rule: OosRule;
}

/**
 * The out-of-scope confidence threshold from validation data only.
 * - `none`: 0 (never reject; for sets without out-of-scope queries, e.g. BANKING77).
 * - `quantile`: the `q`-quantile of the top probabilities on validation: about a fraction q of
 *   in-scope queries is rejected, whatever the out-of-scope queries look like.
 * - `pseudo`: the t maximising ½·(validation rows accepted and correct + pseudo-out-of-scope
 *   queries rejected); equal weights because the share of out-of-scope queries at test time is
 *   unknown. Ties → the smallest t.
 * - `pseudo-quantile`: the smallest t that rejects ⌊pseudoReject·n⌋ of the n pseudo-out-of-scope
 *   queries (ties aside). It adapts to the model's calibration like `pseudo` but rests on
 *   the large pseudo sample alone: `pseudo`'s objective is flat near its maximum and steps with
 *   each of the few validation rows, so its argmax wanders between runs of the same arm.
 */
export function chooseThreshold(
  rule: OosRule, fractions: { quantile: number; pseudoReject: number },
  valid: { top: Float32Array; correct: Uint8Array }, pseudoTop: Float32Array,
): number {
  switch (rule) {
    case "none": return 0;
    case "quantile": return quantileOf(valid.top, fractions.quantile);
    case "pseudo": return bestBalancedThreshold(valid, pseudoTop).threshold;
    case "pseudo-quantile": return quantileOf(pseudoTop, fractions.pseudoReject);
  }
}

/** The smallest value of `xs` with at least ⌊q·n⌋ values below it (ties aside); 0 for no values. */
function quantileOf(xs: Float32Array, q: number): number {
  const sorted = Float64Array.from(xs).sort();
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
}

/**
 * The pseudo rule's threshold and its score, ½·(validation rows accepted and correct +
 * pseudo-out-of-scope queries rejected) at that threshold: `oos_balanced`, the reward metric
 * that optimises what the final threshold is chosen for (a model that is right but unsure loses
 * queries to rejection, which plain accuracy does not see).
 */
export function bestBalancedThreshold(valid: { top: Float32Array; correct: Uint8Array }, pseudoTop: Float32Array): { threshold: number; score: number } {
  if (pseudoTop.length === 0 || valid.top.length === 0) return { threshold: 0, score: NaN };
  const candidates = [...new Set([0, ...valid.top, ...pseudoTop])].filter(Number.isFinite).sort((a, b) => a - b);
  let best = 0;
  let bestScore = -Infinity;
  for (const t of candidates) {
    let accepted = 0;
    for (let i = 0; i < valid.top.length; i++) if (valid.correct[i] && valid.top[i]! >= t) accepted++;
    let rejected = 0;
    for (let i = 0; i < pseudoTop.length; i++) if (pseudoTop[i]! < t) rejected++;
    const score = 0.5 * (accepted / valid.top.length + rejected / pseudoTop.length);
    if (score > bestScore) {
      bestScore = score;
      best = t;
    }
  }
  return { threshold: best, score: bestScore };
}

export interface IntentEnvOptions {
  /** Pseudo-out-of-scope queries (`oos.rule` `pseudo` or `pseudo-quantile`). */
  pseudoOos?: readonly string[];
  /** Ops requested by the spec but unavailable (e.g. a transformer op without its local model), with the reason. */
  skippedOps?: ReadonlyArray<{ op: string; reason: string }>;
}

export class IntentEnv implements Env<IntentEnvState> {
  readonly kind = "intent";
  readonly version = INTENT_ENV_VERSION;
  readonly spec: ResolvedIntentEnvSpec;
  readonly data: IntentData;
  readonly actionSpace: ActionSpace;
  readonly observationDim: number;
  readonly horizon: number;
  readonly batchesPerEpoch: number;
  readonly stepMetrics: readonly string[];
  readonly episodeMetrics: readonly string[] = ["accuracy", "inscope_accuracy", "oos_recall", "macro_f1", "cross_entropy", "oos_threshold"];
  readonly skippedOps: ReadonlyArray<{ op: string; reason: string }>;
  private readonly ops: ({ op: TextOp; copies: number } | undefined)[];
  private readonly pseudoOos: readonly string[];
  private readonly numClasses: number;
  private model?: IntentClassifier;
  private seed = "";
  private rewardRows: number[] = [];
  private batchRng = new Rng(0, "batches");
  private augmentRng = new Rng(0, "augment");
  private order: number[] = [];
  private epoch = 0;
  private cursor = 0;
  private stepCount = 0;
  private goodModel?: IntentClassifierState;
  private stats = this.freshStats();

  /**
   * @param ops the text ops by name (`identity` needs none); every name of `actionSpace.ops`
   *   other than identity must be present.
   */
  constructor(spec: ResolvedIntentEnvSpec, data: IntentData, ops: ReadonlyMap<string, TextOp>, options: IntentEnvOptions = {}) {
    this.spec = spec;
    this.data = data;
    this.skippedOps = options.skippedOps ?? [];
    const skipped = new Set(this.skippedOps.map((s) => s.op));
    const names = spec.rl.ops.filter((n) => !skipped.has(n));
    this.ops = names.map((name) => {
      if (name === "identity") return undefined;
      const { base, copies } = parseCopies(name);
      const op = ops.get(base);
      if (!op) throw new Error(`${spec.source}: \`rl.ops\` names unknown text op "${base}"; known: identity, ${[...ops.keys()].join(", ")} (each may carry a copies suffix, e.g. "word-swap-x4")`);
      return { op, copies };
    });
    this.actionSpace = { ops: names, magnitudeBins: [...spec.rl.magnitudeBins], slots: spec.rl.slots };
    this.numClasses = data.labelNames.length;
    if (data.train.texts.length === 0) throw new Error(`${spec.source}: the training split of \`dataset.train\` is empty`);
    this.pseudoOos = options.pseudoOos ?? [];
    if (usesPseudoOos(spec.oos.rule) && this.pseudoOos.length === 0) {
      throw new Error(`${spec.source}: \`oos.rule\` is "${spec.oos.rule}" but no pseudo-out-of-scope queries were loaded; check \`oos.pseudo.path\``);
    }
    this.observationDim = 7 + 2 * names.length;
    this.batchesPerEpoch = Math.ceil(data.train.texts.length / spec.training.batchSize);
    this.horizon = Math.max(1, Math.ceil((spec.rl.budget.epochs * this.batchesPerEpoch) / spec.rl.batchesPerStep));
    const metric = spec.rl.reward.metric;
    this.stepMetrics = [metric, ...["accuracy", "cross_entropy", "macro_f1"].filter((m) => m !== metric)];
    if (metric === "oos_balanced" && this.pseudoOos.length === 0) {
      throw new Error(`${spec.source}: \`rl.reward.metric\` "oos_balanced" needs pseudo-out-of-scope queries; set \`oos.pseudo\` (rule "pseudo")`);
    }
  }

  describe(): string {
    const d = this.data;
    const m = this.spec.model;
    const skipped = this.skippedOps.length ? `; skipped ${this.skippedOps.map((s) => s.op).join(", ")}` : "";
    return `intent ${d.name}${this.spec.dataset.shots ? ` ${this.spec.dataset.shots}-shot` : ""}: ${d.train.texts.length} train / ${d.valid.texts.length} valid / ` +
      `${d.test.texts.length} test rows, ${this.numClasses} intents; ${m.arch} classifier (dim ${m.dim}, ${m.buckets} buckets); ` +
      `${this.spec.rl.budget.epochs} epochs × ${this.batchesPerEpoch} batches = ${this.horizon} steps; ops ${this.actionSpace.ops.join(", ")}${skipped}`;
  }

  private freshStats(): IntentEnvState["stats"] {
    return freshRunStats(this.actionSpace?.ops.length ?? 0);
  }


  get steps(): number {
    return this.stepCount;
  }

  reset(options: { seed: number | string }): ResetResult {
    this.model?.dispose();
    this.seed = String(options.seed);
    const root = new Rng(options.seed);
    this.model = new IntentClassifier(this.spec.model, this.numClasses, root.child("model"));
    this.batchRng = root.child("batches");
    this.augmentRng = root.child("augment");
    const rows = root.child("reward-rows").shuffle(Array.from({ length: this.data.valid.texts.length }, (_, i) => i));
    this.rewardRows = rows.slice(0, Math.min(this.spec.rl.reward.validRows, rows.length)).sort((a, b) => a - b);
    this.order = [];
    this.epoch = 0;
    this.cursor = 0;
    this.stepCount = 0;
    this.stats = this.freshStats();
    const start = this.subsetMetrics(this.model)[this.spec.rl.reward.metric]!;
    this.stats.lastMetric = start;
    this.goodModel = this.model.getState();
    return { observation: this.observe(), info: { seed: this.seed, startMetric: start } };
  }

  /** Reward-subset validation metrics (argmax predictions). */
  private subsetMetrics(model: IntentClassifier): Record<string, number> {
    const texts = this.rewardRows.map((i) => this.data.valid.texts[i]!);
    const truth = Int32Array.from(this.rewardRows, (i) => this.data.valid.labels[i]!);
    const probs = model.predictProbs(texts);
    const trueProb = Float32Array.from(truth, (y, i) => probs[i * this.numClasses + y]!);
    const pred = predictWithThreshold(probs, this.numClasses, 0);
    const plain = this.stepMetrics.filter((m) => m !== "oos_balanced");
    const out = intentMetrics({ truth, pred, trueProb }, plain);
    if (plain.length < this.stepMetrics.length) {
      const valid = { top: topProbabilities(probs, this.numClasses), correct: Uint8Array.from(pred, (p, i) => (p === truth[i] ? 1 : 0)) };
      out["oos_balanced"] = bestBalancedThreshold(valid, topProbabilities(model.predictProbs(this.pseudoOos), this.numClasses)).score;
    }
    return out;
  }

  private nextBatch(): number[] {
    const n = this.data.train.texts.length;
    if (this.cursor >= this.order.length) {
      this.order = this.batchRng.shuffle(Array.from({ length: n }, (_, i) => i));
      this.epoch++;
      this.cursor = 0;
    }
    const batch = this.order.slice(this.cursor, this.cursor + this.spec.training.batchSize);
    this.cursor += batch.length;
    return batch;
  }

  /** The (op, magnitude) pairs an action stands for, identity slots and zero magnitudes dropped. */
  private policy(action: EnvAction): { op: number; magnitude: number }[] {
    return actionPairs(action, this.actionSpace, "IntentEnv");
  }


  /**
   * Augmented copies of `texts` (indices into it, `sample` mode: only the drawn ones). An op with
   * a copies suffix (`-xN`) turns each text into N independent copies; slots after it apply to
   * every copy.
   */
  private augment(texts: string[], policy: { op: number; magnitude: number }[]): { idx: number[]; texts: string[] } {
    const rl = this.spec.rl;
    let idx = rl.applyMode === "batch" ? texts.map((_, i) => i) : texts.map((_, i) => i).filter(() => this.augmentRng.bernoulli(rl.sampleProbability));
    let out = idx.map((i) => texts[i]!);
    if (out.length === 0) return { idx, texts: out };
    for (const p of policy) {
      const { op, copies } = this.ops[p.op]!;
      if (copies > 1) {
        idx = Array.from({ length: copies }, () => idx).flat();
        out = Array.from({ length: copies }, () => out).flat();
      }
      out = op.apply(out, p.magnitude, this.augmentRng);
    }
    return { idx, texts: out };
  }

  async step(action: EnvAction): Promise<StepResult<StepInfo>> {
    const model = this.model;
    if (!model) throw new Error("IntentEnv.step: call reset({ seed }) before step()");
    const rl = this.spec.rl;
    const policy = this.policy(action);
    let lossSum = 0;
    for (let k = 0; k < rl.batchesPerStep; k++) {
      const rows = this.nextBatch();
      let texts = rows.map((i) => this.data.train.texts[i]!);
      let labels = rows.map((i) => this.data.train.labels[i]!);
      if (policy.length) {
        const aug = this.augment(texts, policy);
        const augLabels = aug.idx.map((i) => labels[i]!);
        if (rl.mode === "append") {
          texts = [...texts, ...aug.texts];
          labels = [...labels, ...augLabels];
        } else {
          // `direct`: the augmented utterances replace their originals.
          texts = texts.slice();
          aug.idx.forEach((i, j) => (texts[i] = aug.texts[j]!));
        }
      }
      lossSum += model.trainStep(texts, labels);
    }
    this.stepCount++;
    const loss = lossSum / rl.batchesPerStep;
    const atHorizon = this.stepCount === this.horizon;
    const info: StepInfo = {
      trainLoss: loss, ops: policy.map((p) => this.actionSpace.ops[p.op]!), magnitudes: policy.map((p) => p.magnitude),
      epoch: this.epoch, batchesDone: (this.epoch - 1) * this.batchesPerEpoch + Math.ceil(this.cursor / this.spec.training.batchSize),
    };
    const r = rl.reward;
    const sign = r.metric === "oos_balanced" || getIntentMetric(r.metric).biggerIsBetter ? 1 : -1;
    let reward = 0;
    const evalNow = atHorizon || this.stepCount % r.evalEvery === 0;
    if (Number.isFinite(loss) && evalNow) {
      info.valid = this.subsetMetrics(model);
      const m = info.valid[r.metric]!;
      const before = this.stats.lastMetric;
      if (foldMeasurement(this.stats, m, r.scale * sign)) {
        if (r.kind === "delta") reward = r.scale * sign * (m - before);
        else if (atHorizon) reward = r.scale * sign * m;
        this.goodModel = model.getState();
      } else reward = NaN;
    }
    reward = finishStep(this.stats, { step: this.stepCount, loss, reward, measured: evalNow, action, restoreGood: () => model.setState(this.goodModel!), info });
    return { observation: this.observe(), reward, terminated: false, truncated: false, info };
  }

  private observe(): Float32Array {
    return observationOf(this.stats, {
      progress: this.stepCount / this.horizon, epochProgress: this.order.length ? this.cursor / this.order.length : 0,
      started: this.stepCount > 0, metricScale: 1, numOps: this.actionSpace.ops.length,
    });
  }


  /** The current observation (e.g. after `setState`). */
  getObservation(): Float32Array {
    return this.observe();
  }

  /**
   * The out-of-scope threshold for the current model (validation and pseudo-OOS queries only).
   * `rule` overrides the spec's `oos.rule` (benchmarks compare rules on one trained model).
   */
  threshold(rule: OosRule = this.spec.oos.rule): ThresholdChoice {
    const model = this.requireModel("threshold");
    if (usesPseudoOos(rule) && this.pseudoOos.length === 0) throw new Error(`IntentEnv.threshold: rule "${rule}" needs pseudo-out-of-scope queries; set \`oos.pseudo\` in ${this.spec.source}`);
    if (rule === "none") return { threshold: 0, rule };
    const C = this.numClasses;
    const probs = model.predictProbs(this.data.valid.texts);
    const pred = predictWithThreshold(probs, C, 0);
    const valid = { top: topProbabilities(probs, C), correct: Uint8Array.from(pred, (p, i) => (p === this.data.valid.labels[i] ? 1 : 0)) };
    const pseudoTop = usesPseudoOos(rule) ? topProbabilities(model.predictProbs(this.pseudoOos), C) : new Float32Array(0);
    return { threshold: chooseThreshold(rule, this.spec.oos, valid, pseudoTop), rule };
  }

  /** Full validation and test metrics with the out-of-scope threshold chosen on validation (`rule`: see `threshold`). */
  finalMetrics(rule?: OosRule): EpisodeMetrics {
    const model = this.requireModel("finalMetrics");
    const { threshold } = this.threshold(rule);
    const names = INTENT_METRICS;
    const evaluate = (set: IntentData["valid"]) => {
      const probs = model.predictProbs(set.texts);
      const trueProb = Float32Array.from(set.labels, (y, i) => (y >= 0 ? probs[i * this.numClasses + y]! : NaN));
      const m = intentMetrics({ truth: set.labels, pred: predictWithThreshold(probs, this.numClasses, threshold), trueProb }, names);
      return { ...m, oos_threshold: threshold };
    };
    return { valid: evaluate(this.data.valid), test: evaluate(this.data.test) };
  }

  private requireModel(who: string): IntentClassifier {
    if (!this.model) throw new Error(`IntentEnv.${who}: call reset({ seed }) first`);
    return this.model;
  }

  getState(): IntentEnvState {
    const model = this.requireModel("getState");
    const state: IntentEnvState = {
      kind: "intent", version: INTENT_ENV_VERSION, seed: this.seed, stepCount: this.stepCount, epoch: this.epoch, cursor: this.cursor,
      order: this.order.slice(), batchRng: this.batchRng.state(), augmentRng: this.augmentRng.state(),
      model: model.getState(), stats: structuredClone(this.stats),
    };
    if (this.goodModel) state.goodModel = this.goodModel;
    return state;
  }

  setState(state: IntentEnvState): Float32Array {
    if (state.kind !== "intent" || state.version !== INTENT_ENV_VERSION) {
      throw new Error(`IntentEnv.setState: the checkpoint is a ${state.kind ?? "recommender"} v${state.version} state, this env is intent v${INTENT_ENV_VERSION}; resume it with the env that wrote it`);
    }
    this.reset({ seed: state.seed });
    this.model!.setState(state.model);
    this.goodModel = state.goodModel;
    this.stepCount = state.stepCount;
    this.epoch = state.epoch;
    this.cursor = state.cursor;
    this.order = state.order.slice();
    this.batchRng = Rng.restore(state.batchRng);
    this.augmentRng = Rng.restore(state.augmentRng);
    this.stats = structuredClone(state.stats);
    return this.observe();
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}

const TRANSFORMER_OPS = ["mlm-substitute", "back-translate", "embed-neighbour"];

/**
 * The text ops an intent spec names, by name. Registry text ops are built directly; a transformer
 * op computes its candidates for `texts` (the training utterances) with its local model, and is
 * skipped with the reason when the model is not there (no download is ever attempted).
 */
export async function createIntentOps(
  spec: ResolvedIntentEnvSpec, texts: readonly string[], log: ((line: string) => void) | null = (l) => console.error(l),
): Promise<{ ops: Map<string, TextOp>; skippedOps: { op: string; reason: string }[] }> {
  const ops = new Map<string, TextOp>(textOps.map((o) => [o.name, o]));
  const skippedOps: { op: string; reason: string }[] = [];
  const wanted = [...new Set(spec.rl.ops.map((n) => parseCopies(n).base))].filter((n) => TRANSFORMER_OPS.includes(n));
  if (wanted.length === 0) return { ops, skippedOps };
  const t = await import("../augment/transformer/index.ts");
  const cfg = spec.rl.transformer;
  const location = cfg.modelDir ? { modelDir: cfg.modelDir } : {};
  for (const name of wanted) {
    try {
      if (name === "mlm-substitute") t.assertModelPresent(name, "fill-mask", cfg.mlmModel ?? t.DEFAULT_MLM_MODEL, location);
      else if (name === "embed-neighbour") t.assertModelPresent(name, "feature-extraction", t.DEFAULT_EMBED_MODEL, location);
      else for (const p of cfg.pivots ?? t.DEFAULT_PIVOTS) for (const m of [p.forward, p.backward]) t.assertModelPresent(name, "translation", m, location);
    } catch (e) {
      const reason = (e as Error).message;
      for (const n of spec.rl.ops) if (parseCopies(n).base === name) skippedOps.push({ op: n, reason });
      log?.(`[augrl] ${spec.source}: op \`${name}\` is unavailable and left out of the action space: ${reason}`);
      continue;
    }
    const options = { ...location, texts, ...(cfg.mlmModel ? { model: cfg.mlmModel } : {}), ...(cfg.pivots ? { pivots: cfg.pivots } : {}) };
    ops.set(name, await t.createTransformerOp(name, options));
  }
  return { ops, skippedOps };
}

/** Load a resolved intent spec's data and ops and build its env. */
export async function createIntentEnv(spec: ResolvedIntentEnvSpec, options: { log?: ((line: string) => void) | null } = {}): Promise<IntentEnv> {
  const { data, pseudoOos } = loadIntentSpecData(spec);
  const { ops, skippedOps } = await createIntentOps(spec, data.train.texts, options.log === undefined ? (l) => console.error(l) : options.log);
  return new IntentEnv(spec, data, ops, { pseudoOos, skippedOps });
}

/**
 * `createIntentEnv` without awaiting, for hosts that build envs synchronously (the env kinds
 * registry). Transformer ops need their candidates computed first, which is asynchronous: a spec
 * that lists one is refused here with the fix, never silently changed.
 */
export function createIntentEnvSync(spec: ResolvedIntentEnvSpec): IntentEnv {
  const transformer = spec.rl.ops.filter((n) => TRANSFORMER_OPS.includes(parseCopies(n).base));
  if (transformer.length) {
    throw new Error(`${spec.source}: \`rl.ops\` lists ${transformer.join(", ")}, whose candidates are computed asynchronously; build the env with \`await createIntentEnv(spec)\` or remove the op`);
  }
  const { data, pseudoOos } = loadIntentSpecData(spec);
  return new IntentEnv(spec, data, new Map(textOps.map((o) => [o.name, o])), { pseudoOos });
}
