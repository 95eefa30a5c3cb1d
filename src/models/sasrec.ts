/**
 * SASRec: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018), in TensorFlow.js.
 *
 * Item + learned position embeddings → N causal multi-head self-attention blocks → the output at
 * position t scores every item as the next one (dot product with the shared item embedding).
 *
 * Deviations from the paper, all following the S3-Rec authors' widely reproduced PyTorch version
 * (the source of the published Beauty numbers we compare against):
 * - post-LN blocks (residual, then LayerNorm), GELU feed-forward with `innerSize` = 4·d,
 *   truncated-normal(0.02) initialisation, an embedding LayerNorm;
 * - negatives for the BCE loss are drawn per position from the items not in the user's sequence.
 * Additions: a full-softmax cross-entropy loss (`loss: "ce"`), label smoothing, per-position loss
 * weights and explicit targets/negatives (set by augmentation ops), and *length bucketing*: a batch
 * is padded only to its longest sequence, with position ids offset so that a sequence gets exactly
 * the positions it would get padded to `maxLen` (so scores do not depend on the padding); and a
 * CL4SRec-style contrastive step (`trainStepContrastive`).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng, type RngState } from "../core/rng.ts";
import { selectSamples } from "../data/batches.ts";
import type { TrainBatch } from "../data/types.ts";
import { Adam, type AdamState } from "../tf/adam.ts";
import { addBroadcast, batchMatmul, dense, dropout, embeddingLookupHost, gelu, layerNorm, matmul } from "../tf/ops.ts";

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
  /** `bce`: one sampled negative per position (original SASRec); `ce`: full softmax over all items. Default `bce`. */
  loss: "bce" | "ce";
  /** Adam learning rate. Default 1e-3. */
  learningRate: number;
  /** Std of the truncated-normal initialiser. Default 0.02. */
  initStd: number;
  /** Pad each batch only to its longest sequence (true) or always to maxLen (false). Default true. */
  lengthBucketing: boolean;
  /**
   * Split every training batch into this many row shards and sum their gradients (each shard's
   * loss divided by the whole batch's denominator, so the sum is the batch's gradient up to float
   * rounding). Shards run on helper threads when the model's `shardRunner` has them, and the
   * weights are bit-identical for any thread count: this setting, not the thread count, decides
   * the arithmetic. Each shard draws its dropout masks from its own seed. Default 1 (no split).
   * `trainStepContrastive` ignores it: its InfoNCE negatives are the whole batch's other users.
   */
  gradientShards: number;
}

export const SASREC_DEFAULTS: SASRecConfig = {
  hiddenSize: 64,
  numBlocks: 2,
  numHeads: 2,
  innerSize: 256,
  activation: "gelu",
  dropout: 0.5,
  maxLen: 50,
  loss: "bce",
  learningRate: 1e-3,
  initStd: 0.02,
  lengthBucketing: true,
  gradientShards: 1,
};

/** Left-padded [B, L] arrays of a training batch, as the loss reads them. */
interface TrainArrays {
  B: number;
  L: number;
  inputs: Int32Array;
  targets: Int32Array;
  negatives: Int32Array;
  weights: Float32Array;
  lossDenominator?: number;
}

/** Everything a thread needs to compute one shard's gradients (plain arrays: it can be posted). */
export interface ShardJob extends TrainArrays {
  /** The whole batch's loss denominator, so shard losses (and gradients) add up to the batch's. */
  lossDenominator: number;
  labelSmoothing: number;
  /** Seed of the shard's own dropout stream. */
  dropoutSeed: number;
}

/**
 * Computes the gradients of a step's shards, possibly on other threads. It must return exactly
 * what `model.shardGradients(job)` returns for each job, so weights never depend on the threads.
 */
export interface ShardRunner {
  /** Per job: the loss and one gradient per variable (variable order), as tensors of this thread. */
  run(model: SASRec, jobs: ShardJob[]): { loss: number; grads: tf.Tensor[] }[];
}

/** What a model may be given besides its config. */
export interface SASRecOptions {
  /** Computes the shards of sharded steps (`createTrainPool` in train-pool.ts). Default: one after the other on this thread. */
  shardRunner?: ShardRunner;
}

interface BlockParams {
  wq: tf.Variable; bq: tf.Variable; wk: tf.Variable; bk: tf.Variable; wv: tf.Variable; bv: tf.Variable;
  wo: tf.Variable; bo: tf.Variable; ln1g: tf.Variable; ln1b: tf.Variable;
  w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable; ln2g: tf.Variable; ln2b: tf.Variable;
}

/** Serialisable model + optimizer state (for checkpoints and bit-exact rollback). */
export interface SASRecState {
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: AdamState;
  /** The model's own random streams: without them a restored run would draw other dropout masks and negatives. */
  rng: { dropout: RngState; negatives: RngState };
}

export class SASRec {
  readonly config: SASRecConfig;
  readonly numItems: number;
  /** Rows of the item table: 0 = padding, 1..numItems = items, numItems+1 = mask token. */
  readonly vocabSize: number;
  private rngDropout: Rng;
  private rngNegatives: Rng;
  /** The stream `dropout` draws from: `rngDropout`, or a shard's own stream inside `shardGradients`. */
  private dropoutSource?: Rng;
  private static instances = 0;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly blocks: BlockParams[] = [];
  private readonly itemEmb: tf.Variable;
  private readonly posEmb: tf.Variable;
  private readonly embLnG: tf.Variable;
  private readonly embLnB: tf.Variable;
  private readonly optimizer: Adam;
  private readonly shardRunner: ShardRunner;
  /** Host copy of the item table for the current weights (see `items`). */
  private itemHost?: { dataId: object; data: Float32Array };
  /** Transposed item table for scoring, for the weights with this data id (see `itemTableT`). */
  private itemT?: { dataId: object; t: tf.Tensor2D };

  constructor(config: Partial<SASRecConfig>, numItems: number, rng: Rng, options: SASRecOptions = {}) {
    this.config = { ...SASREC_DEFAULTS, ...config };
    this.shardRunner = options.shardRunner ?? inThreadShards;
    SASRec.instances++;
    const c = this.config;
    if (!(Number.isInteger(c.gradientShards) && c.gradientShards >= 1)) {
      throw new Error(`\`gradientShards\` must be an integer >= 1, got ${c.gradientShards}`);
    }
    if (c.hiddenSize % c.numHeads !== 0) {
      throw new Error(`\`numHeads\` (${c.numHeads}) must divide \`hiddenSize\` (${c.hiddenSize})`);
    }
    this.numItems = numItems;
    this.vocabSize = numItems + 2;
    const rngInit = rng.child("init");
    this.rngDropout = rng.child("dropout");
    this.rngNegatives = rng.child("negatives");
    const d = c.hiddenSize;
    const normal = (name: string, shape: number[]) =>
      this.variable(name, tf.truncatedNormal(shape, 0, c.initStd, "float32", rngInit.tfSeed()));
    const ones = (name: string, n: number) => this.variable(name, tf.ones([n]));
    const zeros = (name: string, n: number) => this.variable(name, tf.zeros([n]));
    this.itemEmb = normal("item_emb", [this.vocabSize, d]);
    this.posEmb = normal("pos_emb", [c.maxLen, d]);
    this.embLnG = ones("emb_ln_g", d);
    this.embLnB = zeros("emb_ln_b", d);
    for (let i = 0; i < c.numBlocks; i++) {
      const p = (n: string) => `block${i}/${n}`;
      this.blocks.push({
        wq: normal(p("wq"), [d, d]), bq: zeros(p("bq"), d),
        wk: normal(p("wk"), [d, d]), bk: zeros(p("bk"), d),
        wv: normal(p("wv"), [d, d]), bv: zeros(p("bv"), d),
        wo: normal(p("wo"), [d, d]), bo: zeros(p("bo"), d),
        ln1g: ones(p("ln1g"), d), ln1b: zeros(p("ln1b"), d),
        w1: normal(p("w1"), [d, c.innerSize]), b1: zeros(p("b1"), c.innerSize),
        w2: normal(p("w2"), [c.innerSize, d]), b2: zeros(p("b2"), d),
        ln2g: ones(p("ln2g"), d), ln2b: zeros(p("ln2b"), d),
      });
    }
    this.optimizer = new Adam(this.vars, { learningRate: c.learningRate });
  }

  private variable(name: string, init: tf.Tensor): tf.Variable {
    // tf variable names are global per process; the logical name is the key of `vars`.
    const v = tf.variable(init, true, `sasrec${SASRec.instances}/${name}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  private dropout(x: tf.Tensor, training: boolean): tf.Tensor {
    return training && this.config.dropout > 0 ? dropout(x, this.config.dropout, (this.dropoutSource ?? this.rngDropout).tfSeed()) : x;
  }

  /** Item-embedding rows for host-side ids (see `embeddingLookupHost`: GatherV2 is slow on wasm). */
  private items(ids: Int32Array, shape: number[]): tf.Tensor {
    return embeddingLookupHost(this.itemEmb as tf.Tensor2D, this.itemTableHost(), ids, shape);
  }

  /**
   * The item table's current values on the host, to be read at once (before the next tf op).
   * wasm: a view of its heap, no copy (a later allocation may move the heap, hence "at once").
   * Elsewhere: one download per weight update, cached by data id (`assign` swaps the data id).
   */
  private itemTableHost(): Float32Array {
    const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
    if (tf.getBackend() === "wasm" && backend.typedArrayFromHeap) return backend.typedArrayFromHeap(this.itemEmb);
    const id = (this.itemEmb as unknown as { dataId: object }).dataId;
    if (this.itemHost?.dataId !== id) this.itemHost = { dataId: id, data: this.itemEmb.dataSync() as Float32Array };
    return this.itemHost.data;
  }

  /**
   * Encode left-padded input ids [B, L] (L <= maxLen) → hidden states [B, L, d], or [B, 1, d]
   * for the last position only when `lastOnly` (scoring needs no other output, and causal
   * attention lets the final block skip every other query: about a third less work).
   * Position ids are maxLen-L .. maxLen-1, exactly those of the same rows padded to maxLen.
   */
  private encode(ids: Int32Array, B: number, L: number, training: boolean, lastOnly = false): tf.Tensor3D {
    const c = this.config;
    const h = c.numHeads;
    const dh = c.hiddenSize / h;
    const d = c.hiddenSize;
    const items = this.items(ids, [B, L]); // [B L d]
    const pos = tf.slice(this.posEmb, [c.maxLen - L, 0], [L, d]); // [L d]
    let x: tf.Tensor = this.dropout(layerNorm(addBroadcast(items, pos), this.embLnG as tf.Tensor1D, this.embLnB as tf.Tensor1D), training);

    // Additive masks, built on the host (no kernels): [B 1 L L], query t may attend key s only if
    // s <= t and s is not padding; [B 1 1 L] for the last query alone, which sees every real key.
    // Allowed entries hold -0 = (1 - 1)·-10000, as the tensor formula produced.
    const lastOnlyBlock = lastOnly ? this.blocks.length - 1 : -1;
    const mask = lastOnlyBlock === 0 ? undefined : tf.tensor4d(attentionMask(ids, B, L), [B, 1, L, L]);
    const lastMask = lastOnly ? tf.tensor4d(lastQueryMask(ids, B, L), [B, 1, 1, L]) : undefined;

    const heads = (t: tf.Tensor, len: number) =>
      t.reshape([B, len, h, dh]).transpose([0, 2, 1, 3]).reshape([B * h, len, dh]) as tf.Tensor3D;
    this.blocks.forEach((p, i) => {
      const queriesLast = lastOnly && i === this.blocks.length - 1;
      const Lq = queriesLast ? 1 : L;
      const xq = queriesLast ? tf.slice(x, [0, L - 1, 0], [B, 1, d]) : x; // [B Lq d]
      const q = heads(dense(xq, p.wq as tf.Tensor2D, p.bq as tf.Tensor1D), Lq);
      const k = heads(dense(x, p.wk as tf.Tensor2D, p.bk as tf.Tensor1D), L);
      const v = heads(dense(x, p.wv as tf.Tensor2D, p.bv as tf.Tensor1D), L);
      const scores = tf.add(
        tf.mul(batchMatmul(q, k, true), 1 / Math.sqrt(dh)).reshape([B, h, Lq, L]),
        (queriesLast ? lastMask : mask)!,
      );
      const probs = this.dropout(tf.softmax(scores, -1), training).reshape([B * h, Lq, L]) as tf.Tensor3D;
      const ctx = batchMatmul(probs, v).reshape([B, h, Lq, dh]).transpose([0, 2, 1, 3]).reshape([B, Lq, d]);
      const attnOut = this.dropout(dense(ctx, p.wo as tf.Tensor2D, p.bo as tf.Tensor1D), training);
      const y = layerNorm(tf.add(xq, attnOut), p.ln1g as tf.Tensor1D, p.ln1b as tf.Tensor1D);
      const act = c.activation === "gelu" ? gelu : tf.relu;
      const ff = dense(act(dense(y, p.w1 as tf.Tensor2D, p.b1 as tf.Tensor1D)), p.w2 as tf.Tensor2D, p.b2 as tf.Tensor1D);
      x = layerNorm(tf.add(y, this.dropout(ff, training)), p.ln2g as tf.Tensor1D, p.ln2b as tf.Tensor1D);
    });
    return x as tf.Tensor3D;
  }

  /** Padded length for a set of input lengths. */
  private padLength(maxInputLen: number): number {
    return this.config.lengthBucketing ? Math.max(1, Math.min(this.config.maxLen, maxInputLen)) : this.config.maxLen;
  }

  /** Build left-padded int arrays for a training batch: inputs, targets, negatives, weights [B*L]. */
  private buildTrainArrays(batch: TrainBatch) {
    const B = batch.seqs.length;
    let longest = 1;
    for (const s of batch.seqs) longest = Math.max(longest, s.length - 1);
    const L = this.padLength(longest);
    const inputs = new Int32Array(B * L);
    const targets = new Int32Array(B * L);
    const negatives = new Int32Array(B * L);
    const weights = new Float32Array(B * L);
    const V = this.numItems;
    for (let b = 0; b < B; b++) {
      const seq = batch.seqs[b]!;
      const n = seq.length - 1; // number of (input, target) pairs
      const take = Math.min(n, L);
      const tg = batch.targets?.[b];
      const ng = batch.negatives?.[b];
      const wt = batch.weights?.[b];
      // Items the user interacted with: negatives must avoid them (S3-Rec's sampler does the same).
      const seen = new Set<number>(seq);
      if (tg) for (const t of tg) seen.add(t);
      for (let j = 0; j < take; j++) {
        const src = n - take + j; // pair index in the full sequence
        const dst = b * L + (L - take + j);
        inputs[dst] = seq[src]!;
        const target = tg ? tg[src]! : seq[src + 1]!;
        targets[dst] = target;
        weights[dst] = target > 0 ? (wt ? wt[src]! : 1) : 0;
        if (ng && ng[src]! > 0) negatives[dst] = ng[src]!;
        else {
          let neg: number;
          do neg = 1 + this.rngNegatives.int(V);
          while (seen.has(neg) && seen.size < V);
          negatives[dst] = neg;
        }
      }
    }
    return { B, L, inputs, targets, negatives, weights, lossDenominator: batch.lossDenominator };
  }

  /** Training loss for one batch as a scalar tensor (used inside `minimize`). */
  private lossFn(a: TrainArrays, labelSmoothing: number, training: boolean): tf.Scalar {
    const { B, L } = a;
    const w = tf.tensor1d(a.weights);
    const hidden = this.encode(a.inputs, B, L, training).reshape([B * L, this.config.hiddenSize]); // [BL d]
    const posLogit = tf.sum(tf.mul(hidden, this.items(a.targets, [B * L])), -1); // [BL]
    let perPos: tf.Tensor;
    const eps = labelSmoothing;
    if (this.config.loss === "bce") {
      const negLogit = tf.sum(tf.mul(hidden, this.items(a.negatives, [B * L])), -1);
      // BCE with soft labels: the positive's label is 1-eps, the negative's eps.
      const bce = (logit: tf.Tensor, label: number) =>
        tf.add(tf.mul(label, tf.softplus(tf.neg(logit))), tf.mul(1 - label, tf.softplus(logit)));
      perPos = tf.add(bce(posLogit, 1 - eps), bce(negLogit, eps));
    } else {
      const logits = matmul(hidden as tf.Tensor2D, tf.transpose(this.itemEmb as tf.Tensor2D)); // [BL V+2]
      const lse = tf.logSumExp(logits, -1);
      perPos = tf.sub(lse, posLogit);
      if (eps > 0) perPos = tf.add(tf.mul(1 - eps, perPos), tf.mul(eps, tf.sub(lse, tf.mean(logits, -1))));
    }
    // Default: the mean over this batch's positions. With `lossDenominator` (set per epoch by the
    // trainer) every position weighs the same whatever batch it lands in, as with random batches.
    const denominator = a.lossDenominator ?? tf.maximum(tf.sum(w), 1);
    return tf.div(tf.sum(tf.mul(perPos, w)), denominator) as tf.Scalar;
  }

  /** One optimisation step on `batch`; returns the mean training loss. */
  trainStep(batch: TrainBatch): number {
    if (this.config.gradientShards > 1 && batch.seqs.length > 1) return this.trainStepSharded(batch);
    const arrays = this.buildTrainArrays(batch);
    const eps = batch.labelSmoothing ?? 0;
    return this.optimizer.minimize(() => this.lossFn(arrays, eps, true));
  }

  /**
   * `trainStep` with the batch cut into `gradientShards` contiguous row ranges. Negatives are
   * drawn row by row in batch order, as unsharded; each shard is padded to its own longest row
   * (scores do not depend on padding); the gradients are summed in shard order.
   */
  private trainStepSharded(batch: TrainBatch): number {
    const B = batch.seqs.length;
    const n = Math.min(this.config.gradientShards, B);
    const start = (i: number) => Math.floor((i * B) / n);
    const parts = Array.from({ length: n }, (_, i) =>
      this.buildTrainArrays(selectSamples(batch, Array.from({ length: start(i + 1) - start(i) }, (_, k) => start(i) + k))));
    const lossDenominator = batch.lossDenominator ?? Math.max(parts.reduce((sum, a) => a.weights.reduce((s, w) => s + w, sum), 0), 1);
    const labelSmoothing = batch.labelSmoothing ?? 0;
    const jobs: ShardJob[] = parts.map((a) => ({ ...a, lossDenominator, labelSmoothing, dropoutSeed: this.rngDropout.tfSeed() }));
    const results = this.shardRunner.run(this, jobs);
    const total = tf.tidy(() => results[0]!.grads.map((g, v) => results.slice(1).reduce((sum, r) => tf.add(sum, r.grads[v]!), g)));
    this.optimizer.applyGradients(total);
    for (const t of total) t.dispose();
    for (const r of results) for (const g of r.grads) g.dispose();
    return results.reduce((sum, r) => sum + r.loss, 0);
  }

  /** Loss and gradients (variable order) of one shard, without updating anything. */
  shardGradients(job: ShardJob): { loss: number; grads: tf.Tensor[] } {
    const varList = [...this.vars.values()];
    this.dropoutSource = new Rng(job.dropoutSeed, "shard-dropout");
    try {
      const { value, grads } = tf.variableGrads(() => this.lossFn(job, job.labelSmoothing, true), varList);
      const loss = value.dataSync()[0]!;
      value.dispose();
      return { loss, grads: varList.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
    } finally {
      this.dropoutSource = undefined;
    }
  }

  /** Names and shapes of the variables, in the order of `shardGradients`' gradients. */
  variableShapes(): { name: string; shape: number[]; size: number }[] {
    return [...this.vars].map(([name, v]) => ({ name, shape: v.shape, size: v.size }));
  }

  /**
   * One optimisation step on the recommendation loss of `batch` plus `weight` × NT-Xent between
   * two augmented views of the same users (CL4SRec, Xie et al., ICDE 2022). Returns the total loss.
   *
   * A view's representation is the last-position output of `encode` on the view's inputs (its
   * sequence without the last item, as `trainStep` reads a batch; a 1-item view is read as that
   * item). Similarities are cosine / `temperature`; for user b the
   * positive is the other view of b and the negatives are the other 2B−2 representations (the
   * "normalised" in NT-Xent; CL4SRec's code also offers a raw dot product, not used here).
   * Dropout is on in both views, as in CL4SRec. The recommendation part draws negatives and
   * dropout seeds first and in the same order as `trainStep`, so with `weight` 0 the returned
   * loss equals `trainStep`'s on the same batch and seed.
   */
  trainStepContrastive(batch: TrainBatch, views: [TrainBatch, TrainBatch], weight: number, temperature = 1): number {
    const B = batch.seqs.length;
    for (const [i, v] of views.entries()) {
      if (v.seqs.length !== B) {
        throw new Error(`trainStepContrastive: \`views[${i}]\` has ${v.seqs.length} sequences, \`batch\` has ${B}; views must hold the same users in the same order`);
      }
    }
    if (!(Number.isFinite(weight) && weight >= 0)) throw new RangeError(`trainStepContrastive: \`weight\` must be a finite number >= 0, got ${weight}`);
    if (!(temperature > 0)) throw new RangeError(`trainStepContrastive: \`temperature\` must be > 0, got ${temperature}`);
    const arrays = this.buildTrainArrays(batch);
    const eps = batch.labelSmoothing ?? 0;
    // Both views in one encoder pass of 2B rows (half the kernel launches of two passes; positions
    // are right-aligned and padding is masked, so the common padded length changes no output).
    const both = this.buildViewInputs([...views[0].seqs, ...views[1].seqs]);
    return this.optimizer.minimize(() => {
      const rec = this.lossFn(arrays, eps, true);
      const d = this.config.hiddenSize;
      const z = this.encode(both.ids, 2 * B, both.L, true, true).reshape([2 * B, d]); // [2B d]
      const zn = tf.mul(z, tf.rsqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12)));
      const sim = tf.mul(matmul(zn as tf.Tensor2D, tf.transpose(zn) as tf.Tensor2D), 1 / temperature); // [2B 2B]
      const { selfMask, positive } = contrastiveMasks(B);
      const logits = tf.add(sim, selfMask); // a representation is never its own negative
      const posLogit = tf.sum(tf.mul(logits, positive), -1); // [2B]
      const nce = tf.mean(tf.sub(tf.logSumExp(logits, -1), posLogit));
      return tf.add(rec, tf.mul(nce, weight)) as tf.Scalar;
    });
  }

  /** Left-padded input ids of contrastive views: each sequence without its last item. */
  private buildViewInputs(seqs: Int32Array[]): { ids: Int32Array; L: number } {
    const inputsOf = (s: Int32Array) => (s.length > 1 ? s.subarray(0, s.length - 1) : s);
    let longest = 1;
    for (const s of seqs) longest = Math.max(longest, Math.min(inputsOf(s).length, this.config.maxLen));
    const L = this.padLength(longest);
    const ids = new Int32Array(seqs.length * L);
    seqs.forEach((s, b) => {
      const h = inputsOf(s);
      const take = Math.min(h.length, L);
      ids.set(h.subarray(h.length - take), b * L + (L - take));
    });
    return { ids, L };
  }

  /** Mean loss on a batch without updating (no dropout). */
  evalLoss(batch: TrainBatch): number {
    const arrays = this.buildTrainArrays(batch);
    const t = tf.tidy(() => this.lossFn(arrays, batch.labelSmoothing ?? 0, false));
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
    const scores = tf.tidy(() => this.scoreTensor(histories));
    try {
      const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
      const view = tf.getBackend() === "wasm" && backend.typedArrayFromHeap ? backend.typedArrayFromHeap(scores) : (scores.dataSync() as Float32Array);
      return use(view);
    } finally {
      scores.dispose();
    }
  }

  /** Scores [n, vocabSize] of the next item after each history (inside the caller's tidy). */
  private scoreTensor(histories: Int32Array[]): tf.Tensor2D {
    const n = histories.length;
    let longest = 1;
    for (const h of histories) longest = Math.max(longest, Math.min(h.length, this.config.maxLen));
    const L = this.padLength(longest);
    const ids = new Int32Array(n * L);
    for (let b = 0; b < n; b++) {
      const h = histories[b]!;
      const take = Math.min(h.length, L);
      ids.set(h.subarray(h.length - take), b * L + (L - take));
    }
    const last = this.encode(ids, n, L, false, true).reshape([n, this.config.hiddenSize]); // [n d]
    return tf.matMul(last, this.itemTableT()) as tf.Tensor2D; // [n V+2]
  }

  /**
   * The item table transposed ([d, V+2]) for scoring, kept across calls until the weights
   * change: saves a transpose per chunk, and XNNPACK caches its packed weights per tensor.
   */
  private itemTableT(): tf.Tensor2D {
    const id = (this.itemEmb as unknown as { dataId: object }).dataId;
    if (this.itemT?.dataId !== id) {
      this.itemT?.t.dispose();
      this.itemT = { dataId: id, t: tf.keep(tf.transpose(this.itemEmb as tf.Tensor2D)) };
    }
    return this.itemT.t;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copy of every weight and optimizer slot. */
  getState(): SASRecState {
    return { weights: this.getWeights(), optimizer: this.optimizer.getState(), rng: { dropout: this.rngDropout.state(), negatives: this.rngNegatives.state() } };
  }

  /** Copy of the weights alone (what scoring needs; `getState` adds the optimizer and streams). */
  getWeights(): SASRecState["weights"] {
    const weights: SASRecState["weights"] = {};
    for (const [name, v] of this.vars) weights[name] = { shape: v.shape, data: v.dataSync().slice() as Float32Array };
    return weights;
  }

  /** Overwrite the weights (e.g. a scoring replica); optimizer and streams are left as they are. */
  setWeights(weights: SASRecState["weights"]): void {
    for (const [name, v] of this.vars) {
      const w = weights[name];
      if (!w) throw new Error(`SASRec.setWeights: weight \`${name}\` missing`);
      const t = tf.tensor(w.data, w.shape);
      v.assign(t);
      t.dispose();
    }
  }

  /** Every weight, concatenated in variable order (see `variableShapes`), written into `out`. */
  writeWeightsFlat(out: Float32Array): void {
    let offset = 0;
    for (const v of this.vars.values()) {
      out.set(v.dataSync() as Float32Array, offset);
      offset += v.size;
    }
  }

  /** Overwrite the weights from `writeWeightsFlat`'s layout. */
  setWeightsFlat(flat: Float32Array): void {
    let offset = 0;
    for (const v of this.vars.values()) {
      const t = tf.tensor(flat.subarray(offset, offset + v.size), v.shape);
      v.assign(t);
      t.dispose();
      offset += v.size;
    }
  }

  /** Overwrite the Adam moments and step (e.g. continuing a saved model under new random streams). */
  setOptimizerState(state: SASRecState["optimizer"]): void {
    this.optimizer.setState(state);
  }

  /** Restore `getState()` output exactly (weights and Adam moments and step). */
  setState(state: SASRecState): void {
    this.setWeights(state.weights);
    this.optimizer.setState(state.optimizer);
    this.rngDropout = Rng.restore(state.rng.dropout);
    this.rngNegatives = Rng.restore(state.rng.negatives);
  }

  dispose(): void {
    this.itemT?.t.dispose();
    for (const v of this.vars.values()) v.dispose();
    this.optimizer.dispose();
  }
}

/** Shards computed one after the other on the calling thread. */
export const inThreadShards: ShardRunner = { run: (model, jobs) => jobs.map((job) => model.shardGradients(job)) };

/** Additive self-attention mask [B, 1, L, L] for left-padded ids [B, L] (see `encode`). */
function attentionMask(ids: Int32Array, B: number, L: number): Float32Array {
  const out = new Float32Array(B * L * L).fill(-10000);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < L; s++) {
      if (ids[b * L + s]! <= 0) continue;
      for (let t = s; t < L; t++) out[(b * L + t) * L + s] = -0;
    }
  }
  return out;
}

/** Additive mask [B, 1, 1, L] for the last query only: every real key is visible. */
function lastQueryMask(ids: Int32Array, B: number, L: number): Float32Array {
  const out = new Float32Array(B * L);
  for (let i = 0; i < B * L; i++) out[i] = ids[i]! > 0 ? -0 : -10000;
  return out;
}

/** [2B, 2B] constants for NT-Xent: -1e9 on the diagonal; one-hot of each row's other view. */
function contrastiveMasks(B: number): { selfMask: tf.Tensor2D; positive: tf.Tensor2D } {
  const n = 2 * B;
  const self = new Float32Array(n * n);
  const pos = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    self[i * n + i] = -1e9;
    pos[i * n + ((i + B) % n)] = 1;
  }
  return { selfMask: tf.tensor2d(self, [n, n]), positive: tf.tensor2d(pos, [n, n]) };
}
