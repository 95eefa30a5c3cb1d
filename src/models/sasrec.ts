/**
 * SASRec: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018), in TensorFlow.js.
 *
 * Item + learned position embeddings → N causal multi-head self-attention blocks (layers.ts) →
 * the output at position t scores every item as the next one (dot product with the shared item
 * embedding). Training reads every position of a sequence at once (losses.ts); steps.ts and
 * contrastive.ts hold the training steps, negatives.ts the batch arrays, state.ts the state.
 *
 * Deviations from the paper, all following the S3-Rec authors' widely reproduced PyTorch version
 * (the source of the published Beauty numbers we compare against):
 * - post-LN blocks (residual, then LayerNorm), GELU feed-forward with `innerSize` = 4·d,
 *   truncated-normal(0.02) initialisation, an embedding LayerNorm;
 * - BCE negatives are drawn per position from the items not in the user's sequence.
 * Additions: full-softmax, sampled-softmax and gBCE losses (`loss`, see losses.ts), label
 * smoothing, per-position loss weights and explicit targets/negatives (set by augmentation ops);
 * *length bucketing*: a batch is padded only to its longest sequence, with position ids offset so
 * that a sequence gets exactly the positions it would get padded to `maxLen` (so scores do not
 * depend on the padding); data-parallel steps over `gradientShards`, on helper threads through the
 * `shardRunner`; and contrastive steps (`trainStepContrastive`, sharded by gradient caching).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import { Adam } from "../tf/adam.ts";
import { dropout as tfDropout, embeddingLookupHost } from "../tf/ops.ts";
import { contrastiveReps, contrastiveShardGradients, contrastiveShardGradientsFused, contrastiveStep, type ContrastiveHost, type ContrastiveJob, type ContrastiveOptions, type ContrastiveViews } from "./contrastive.ts";
import { createEncoderParams, encode, encodeMixed, type EncodeContext, type EncoderParams } from "./layers.ts";
import { gbceBeta, recommendationLoss, usesSampledNegatives, type LossKind } from "./losses.ts";
import { buildTrainArrays, leftPad, padLength, type TrainArrays } from "./negatives.ts";
import { assignWeights, assignWeightsFlat, readWeights, writeWeightsFlat, type SASRecState, type Weights } from "./state.ts";
import { inThreadShards, plainStep, shardedStep, shardGradients, type ShardJob, type ShardResult, type ShardRunner } from "./steps.ts";

export type { SASRecState } from "./state.ts";
export { CONTRASTIVE_DEFAULTS, type ContrastiveJob, type ContrastiveOptions, type ContrastiveViews, type Similarity } from "./contrastive.ts";
export { inThreadShards, type ShardJob, type ShardResult, type ShardRunner } from "./steps.ts";

export interface SASRecConfig {
  /** Embedding and hidden size d. Default 64. */
  hiddenSize: number;
  /** Self-attention blocks. Default 2. */
  numBlocks: number;
  /** Attention heads (must divide hiddenSize). Default 2. */
  numHeads: number;
  /** Feed-forward inner size. Default 256 (4·d). */
  innerSize: number;
  /** Feed-forward activation: `gelu` (S3-Rec, BERT) or `relu` (the SASRec paper). Default `gelu`. */
  activation: "gelu" | "relu";
  /** Dropout rate on embeddings, attention probabilities and block outputs. Default 0.5. */
  dropout: number;
  /** Longest history the model reads; longer ones keep their most recent items. Default 50. */
  maxLen: number;
  /**
   * `bce`: one sampled negative per position (original SASRec); `ce`: full softmax over all
   * items; `sampled-softmax`: softmax over the positive and `negatives` uniform negatives per
   * sequence; `gbce`: gSASRec's calibrated BCE over the same negatives (see losses.ts). Default `bce`.
   */
  loss: LossKind;
  /** Negatives per sequence for `sampled-softmax` and `gbce`. Default 256 (gSASRec's per position). */
  negatives: number;
  /** gBCE calibration t ∈ [0, 1] (0: plain BCE, 1: fully calibrated). Default 0.75 (gSASRec). */
  gbceT: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate: number;
  /** Std of the truncated-normal initialiser. Default 0.02. */
  initStd: number;
  /** Pad each batch only to its longest sequence (true) or always to maxLen (false). Default true. */
  lengthBucketing: boolean;
  /**
   * Split every training batch into this many row shards and sum their gradients (each shard's
   * loss divided by the whole batch's denominator, so the sum is the batch's gradient up to float
   * rounding). The model's `shardRunner` decides which threads compute them; the weights are
   * bit-identical for any thread count: this setting, not the thread count, decides the
   * arithmetic. Each shard draws its dropout masks from its own seed. Default 1 (no split).
   */
  gradientShards: number;
}

export const SASREC_DEFAULTS: SASRecConfig = {
  hiddenSize: 64, numBlocks: 2, numHeads: 2, innerSize: 256, activation: "gelu", dropout: 0.5, maxLen: 50,
  loss: "bce", negatives: 256, gbceT: 0.75, learningRate: 1e-3, initStd: 0.02, lengthBucketing: true, gradientShards: 1,
};

/** What a model may be given besides its config. */
export interface SASRecOptions {
  /** Computes the shards of sharded steps (`createTrainPool` in train-pool.ts). Default: one after the other on this thread. */
  shardRunner?: ShardRunner;
}

export class SASRec {
  readonly config: SASRecConfig;
  readonly numItems: number;
  /** Rows of the item table: 0 = padding, 1..numItems = items, numItems+1 = mask token. */
  readonly vocabSize: number;
  private rngDropout: Rng;
  private rngNegatives: Rng;
  private static instances = 0;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly params: EncoderParams;
  private readonly optimizer: Adam;
  private readonly shardRunner: ShardRunner;
  /** What steps.ts and contrastive.ts use of the model. */
  private readonly steps: ContrastiveHost;
  /** Host copy of the item table for the current weights (see `itemTableHost`). */
  private itemHost?: { dataId: object; data: Float32Array };
  /** Transposed item table for scoring, for the weights with this data id (see `itemTableT`). */
  private itemT?: { dataId: object; t: tf.Tensor2D };

  constructor(config: Partial<SASRecConfig>, numItems: number, rng: Rng, options: SASRecOptions = {}) {
    this.config = { ...SASREC_DEFAULTS, ...config };
    const c = this.config;
    if (!(Number.isInteger(c.gradientShards) && c.gradientShards >= 1)) {
      throw new Error(`\`gradientShards\` must be an integer >= 1, got ${c.gradientShards}`);
    }
    if (c.hiddenSize % c.numHeads !== 0) throw new Error(`\`numHeads\` (${c.numHeads}) must divide \`hiddenSize\` (${c.hiddenSize})`);
    if (usesSampledNegatives(c.loss) && !(Number.isInteger(c.negatives) && c.negatives >= 1)) {
      throw new Error(`\`negatives\` must be an integer >= 1 for loss \`${c.loss}\`, got ${c.negatives}`);
    }
    if (!(c.gbceT >= 0 && c.gbceT <= 1)) throw new Error(`\`gbceT\` must be in [0, 1], got ${c.gbceT}`);
    SASRec.instances++;
    this.numItems = numItems;
    this.vocabSize = numItems + 2;
    this.shardRunner = options.shardRunner ?? inThreadShards;
    const rngInit = rng.child("init");
    this.rngDropout = rng.child("dropout");
    this.rngNegatives = rng.child("negatives");
    this.params = createEncoderParams(c, this.vocabSize, rngInit, (name, init) => {
      // tf variable names are global per process; the logical name is the key of `vars`.
      const v = tf.variable(init, true, `sasrec${SASRec.instances}/${name}`);
      init.dispose();
      this.vars.set(name, v);
      return v;
    });
    this.optimizer = new Adam(this.vars, { learningRate: c.learningRate });
    this.steps = {
      gradientShards: c.gradientShards, shape: c, hiddenSize: c.hiddenSize,
      trainArrays: (batch) => buildTrainArrays(batch, c, numItems, this.rngNegatives, { perPosition: c.loss === "bce", perRow: usesSampledNegatives(c.loss) ? c.negatives : 0 }),
      dropoutSeed: () => this.rngDropout.tfSeed(),
      loss: (a, eps, dropout) => this.loss(a, eps, dropout ?? this.rngDropout),
      encodeMixed: (ids, n, L, fullRows, dropout) => encodeMixed(this.params, c, this.encodeContext(dropout ?? this.rngDropout), ids, n, L, fullRows),
      recLoss: (hidden, a, eps) => this.recLoss(hidden, a, eps),
      minimize: (f) => this.optimizer.minimize(f),
      applyGradients: (grads) => this.optimizer.applyGradients(grads),
      variables: () => [...this.vars.values()],
    };
  }

  /** Hidden states [B, L, d] (or [B, 1, d] with `lastOnly`) of left-padded ids; dropout from `dropout` when given. */
  private encode(ids: Int32Array, B: number, L: number, dropout: Rng | undefined, lastOnly = false): tf.Tensor3D {
    return encode(this.params, this.config, this.encodeContext(dropout), ids, B, L, lastOnly);
  }

  /** Item rows from the host table; dropout (drawing seeds from `dropout`) only when given. */
  private encodeContext(dropout: Rng | undefined): EncodeContext {
    const rate = this.config.dropout;
    return {
      items: (rowIds, shape) => embeddingLookupHost(this.params.itemEmb as tf.Tensor2D, this.itemTableHost(), rowIds, shape),
      dropout: (x) => (dropout && rate > 0 ? tfDropout(x, rate, dropout.tfSeed()) : x),
    };
  }

  /** The recommendation loss of `a` (training: dropout from `dropout`; evaluation: `undefined`). */
  private loss(a: TrainArrays, labelSmoothing: number, dropout: Rng | undefined): tf.Scalar {
    const hidden = this.encode(a.inputs, a.B, a.L, dropout).reshape([a.B * a.L, this.config.hiddenSize]) as tf.Tensor2D; // [BL d]
    return this.recLoss(hidden, a, labelSmoothing);
  }

  /** The recommendation loss of `a` from its hidden states [B·L, d]. */
  private recLoss(hidden: tf.Tensor2D, a: TrainArrays, labelSmoothing: number): tf.Scalar {
    return recommendationLoss(hidden, a, {
      kind: this.config.loss,
      gbceBeta: gbceBeta(this.config.negatives, this.numItems, this.config.gbceT),
      items: (ids, shape) => embeddingLookupHost(this.params.itemEmb as tf.Tensor2D, this.itemTableHost(), ids, shape),
      itemEmb: this.params.itemEmb as tf.Tensor2D,
    }, labelSmoothing);
  }

  /** One optimisation step on `batch`; returns the mean training loss. */
  trainStep(batch: TrainBatch): number {
    if (this.config.gradientShards > 1 && batch.seqs.length > 1) return shardedStep(this.steps, batch, (jobs) => this.shardRunner.run(this, jobs));
    return plainStep(this.steps, batch);
  }

  /** Loss and gradients (variable order) of one shard, without updating anything (helper threads call this). */
  shardGradients(job: ShardJob): ShardResult {
    return shardGradients(this.steps, job);
  }

  /**
   * One step on the recommendation loss plus λ × InfoNCE between two views of the batch's users
   * (contrastive.ts); with `gradientShards` > 1 the shards run through the `shardRunner` by
   * gradient caching. Returns the total loss.
   */
  trainStepContrastive(batch: TrainBatch, views: ContrastiveViews, opts: ContrastiveOptions): number {
    return contrastiveStep(this.steps, batch, views, opts, (jobs, grad) => this.shardRunner.runContrastive(this, jobs, grad));
  }

  /** Pass 1 of a sharded contrastive step: a job's representations (helper threads call this). */
  contrastiveReps(job: ContrastiveJob): Float32Array {
    return contrastiveReps(this.steps, job);
  }

  /** Pass 2 of a sharded contrastive step: a job's gradients given its slice of λ·∂InfoNCE/∂reps. */
  contrastiveShardGradients(job: ContrastiveJob, g: Float32Array): ShardResult {
    return contrastiveShardGradients(this.steps, job, g);
  }

  /** Both passes of a contrastive job in one forward pass; `exchange` trades its representations for its slice of G. */
  contrastiveShardGradientsFused(job: ContrastiveJob, exchange: (reps: Float32Array) => Float32Array): ShardResult {
    return contrastiveShardGradientsFused(this.steps, job, exchange);
  }

  /** Mean loss on a batch without updating (no dropout). */
  evalLoss(batch: TrainBatch): number {
    const arrays = this.steps.trainArrays(batch);
    const t = tf.tidy(() => this.loss(arrays, batch.labelSmoothing ?? 0, undefined));
    const v = t.dataSync()[0]!;
    t.dispose();
    return v;
  }

  /**
   * Scores of every item (vocabSize columns; column 0 and the mask token are meaningless) as the
   * next item after each history. Returns a row-major [n, vocabSize] Float32Array.
   */
  scoreNext(histories: Int32Array[]): Float32Array {
    return this.withScores(histories, (scores) => scores.slice());
  }

  /**
   * `scoreNext` without the copy: on wasm `use` gets a view of the backend's heap, valid only
   * during the call (no tf op runs meanwhile, so the heap cannot move); elsewhere a copy.
   */
  withScores<T>(histories: Int32Array[], use: (scores: Float32Array) => T): T {
    const scores = tf.tidy(() => {
      let longest = 1;
      for (const h of histories) longest = Math.max(longest, Math.min(h.length, this.config.maxLen));
      const L = padLength(this.config, longest);
      const last = this.encode(leftPad(histories, L), histories.length, L, undefined, true).reshape([histories.length, this.config.hiddenSize]); // [n d]
      return tf.matMul(last, this.itemTableT()) as tf.Tensor2D; // [n V+2]
    });
    try {
      return use(heapView(scores) ?? (scores.dataSync() as Float32Array));
    } finally {
      scores.dispose();
    }
  }

  /**
   * The item table's current values on the host, to be read at once (before the next tf op).
   * wasm: a view of its heap, no copy (a later allocation may move the heap, hence "at once").
   * Elsewhere: one download per weight update, cached by data id (`assign` swaps the data id).
   */
  private itemTableHost(): Float32Array {
    const itemEmb = this.params.itemEmb;
    const view = heapView(itemEmb);
    if (view) return view;
    const id = (itemEmb as unknown as { dataId: object }).dataId;
    if (this.itemHost?.dataId !== id) this.itemHost = { dataId: id, data: itemEmb.dataSync() as Float32Array };
    return this.itemHost.data;
  }

  /**
   * The item table transposed ([d, V+2]) for scoring, kept across calls until the weights
   * change: saves a transpose per chunk, and XNNPACK caches its packed weights per tensor.
   */
  private itemTableT(): tf.Tensor2D {
    const id = (this.params.itemEmb as unknown as { dataId: object }).dataId;
    if (this.itemT?.dataId !== id) {
      this.itemT?.t.dispose();
      this.itemT = { dataId: id, t: tf.keep(tf.transpose(this.params.itemEmb as tf.Tensor2D)) };
    }
    return this.itemT.t;
  }

  // ---------------------------------------------------------------- state (see state.ts)

  /** Number of trainable parameters. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Names and shapes of the variables, in the order of `shardGradients`' gradients and the flat layout. */
  variableShapes(): { name: string; shape: number[]; size: number }[] {
    return [...this.vars].map(([name, v]) => ({ name, shape: v.shape, size: v.size }));
  }

  /** Copy of every weight, the optimizer slots and the model's random streams. */
  /**
   * Restart the dropout and negative streams from `rng` (children `dropout`, `negatives`). An
   * env that does this before every batch makes a batch's masks and negatives depend on the
   * batch alone, not on what the model drew before: paired branches that took different actions
   * still train the same batch with the same randomness.
   */
  reseedStreams(rng: Rng): void {
    this.rngDropout = rng.child("dropout");
    this.rngNegatives = rng.child("negatives");
  }

  getState(): SASRecState {
    return { weights: this.getWeights(), optimizer: this.optimizer.getState(), rng: { dropout: this.rngDropout.state(), negatives: this.rngNegatives.state() } };
  }

  /** Restore `getState()` output exactly (weights, Adam moments and step, random streams). */
  setState(state: SASRecState): void {
    this.setWeights(state.weights);
    this.optimizer.setState(state.optimizer);
    this.rngDropout = Rng.restore(state.rng.dropout);
    this.rngNegatives = Rng.restore(state.rng.negatives);
  }

  /** Copy of the weights alone (what scoring needs; `getState` adds the optimizer and streams). */
  getWeights(): Weights {
    return readWeights(this.vars);
  }

  /** Overwrite the weights (e.g. a scoring replica); optimizer and streams are left as they are. */
  setWeights(weights: Weights): void {
    assignWeights(this.vars, weights);
  }

  /** Every weight, concatenated in variable order (see `variableShapes`), written into `out`. */
  writeWeightsFlat(out: Float32Array): void {
    writeWeightsFlat(this.vars, out);
  }

  /** Overwrite the weights from `writeWeightsFlat`'s layout. */
  setWeightsFlat(flat: Float32Array): void {
    assignWeightsFlat(this.vars, flat);
  }

  /** Overwrite the Adam moments and step (e.g. continuing a saved model under new random streams). */
  setOptimizerState(state: SASRecState["optimizer"]): void {
    this.optimizer.setState(state);
  }

  dispose(): void {
    this.itemT?.t.dispose();
    for (const v of this.vars.values()) v.dispose();
    this.optimizer.dispose();
  }
}

/** wasm: a zero-copy view of a tensor's data on the backend heap (valid until the next tf op); else undefined. */
function heapView(t: tf.Tensor): Float32Array | undefined {
  const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
  return tf.getBackend() === "wasm" && backend.typedArrayFromHeap ? backend.typedArrayFromHeap(t) : undefined;
}
