/**
 * An intent classifier in TensorFlow.js, trained from scratch in seconds on the wasm backend.
 *
 * Input: hashed word, word-bigram and character n-gram features (intent-features.ts, as fastText).
 * Two heads, chosen by `arch` (measured in bench/intent.ts, see the README's intent section):
 * - `bag` (fastText, Joulin et al. 2017): the mean of every feature's embedding → dropout →
 *   optional ReLU hidden layer → linear → softmax.
 * - `cnn` (Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014, over
 *   fastText subword word vectors): each word's vector is the mean of its word and n-gram
 *   embeddings; a width-`kernel` convolution with `filters` ReLU units, max-pooled over positions,
 *   concatenated with the bag vector → dropout → linear → softmax.
 *
 * Training: softmax cross-entropy (optional label smoothing), the exactly restorable Adam of
 * src/tf/adam.ts. Initialisation and dropout masks come from the seeded streams `init` and
 * `dropout` of the rng passed in, so a model is a pure function of its seed and its batches.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng, type RngState } from "../core/rng.ts";
import { Adam, type AdamState } from "../tf/adam.ts";
import { dense, dropout, embeddingBagHost } from "../tf/ops.ts";
import { FEATURE_DEFAULTS, FeatureCache, type FeatureConfig, type TextFeatures } from "./intent-features.ts";

export interface IntentClassifierConfig extends FeatureConfig {
  /** `bag` (fastText) or `cnn` (word convolution + bag). Default `bag`. */
  arch: "bag" | "cnn";
  /** Embedding size. Default 64. */
  dim: number;
  /** ReLU hidden units between the pooled vector and the output (0 = none). Default 0. */
  hidden: number;
  /** `cnn`: convolution filters and width in words. Defaults 64 and 3. */
  filters: number;
  kernel: number;
  /** Dropout on the pooled vector. Default 0.2. */
  dropout: number;
  /** Adam learning rate. Default 0.005. */
  learningRate: number;
  /** Label smoothing ε of the cross-entropy. Default 0. */
  labelSmoothing: number;
  /** Std of the (truncated normal) embedding initialiser. Default 0.1. */
  initStd: number;
}

export const INTENT_CLASSIFIER_DEFAULTS: IntentClassifierConfig = {
  ...FEATURE_DEFAULTS,
  arch: "bag",
  dim: 64,
  hidden: 0,
  filters: 64,
  kernel: 3,
  dropout: 0.2,
  learningRate: 0.005,
  labelSmoothing: 0,
  initStd: 0.1,
};

/** Weights, Adam moments and the dropout stream: everything a bit-exact continuation needs. */
export interface IntentClassifierState {
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: AdamState;
  rng: { dropout: RngState };
}

/** Padded feature ids and mean weights of a batch (0-weight slots are padding). */
interface Pooling {
  ids: Int32Array;
  weights: Float32Array;
  rows: number;
  width: number;
}

/** Ids of `lists` padded to the longest, each list's slots weighted 1/length (a mean). */
function pooling(lists: readonly Int32Array[]): Pooling {
  let width = 1;
  for (const l of lists) width = Math.max(width, l.length);
  const ids = new Int32Array(lists.length * width);
  const weights = new Float32Array(lists.length * width);
  lists.forEach((l, r) => {
    ids.set(l, r * width);
    weights.fill(l.length ? 1 / l.length : 0, r * width, r * width + l.length);
  });
  return { ids, weights, rows: lists.length, width };
}

let instances = 0;

export class IntentClassifier {
  readonly config: IntentClassifierConfig;
  readonly numClasses: number;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly optimizer: Adam;
  private readonly features: FeatureCache;
  private rngDropout: Rng;
  private readonly id = ++instances;
  private host?: { dataId: object; data: Float32Array };

  constructor(config: Partial<IntentClassifierConfig>, numClasses: number, rng: Rng) {
    const c = (this.config = { ...INTENT_CLASSIFIER_DEFAULTS, ...config });
    if (!(Number.isInteger(numClasses) && numClasses >= 2)) throw new Error(`IntentClassifier: \`numClasses\` must be an integer >= 2, got ${numClasses}`);
    if (c.arch !== "bag" && c.arch !== "cnn") throw new Error(`IntentClassifier: \`arch\` must be "bag" or "cnn", got ${JSON.stringify(c.arch)}`);
    this.numClasses = numClasses;
    this.features = new FeatureCache(c);
    const init = rng.child("init");
    this.rngDropout = rng.child("dropout");
    const normal = (name: string, shape: number[], std: number) => this.variable(name, tf.truncatedNormal(shape, 0, std, "float32", init.tfSeed()));
    const glorot = (name: string, fanIn: number, fanOut: number) => normal(name, [fanIn, fanOut], Math.sqrt(2 / (fanIn + fanOut)));
    const zeros = (name: string, n: number) => this.variable(name, tf.zeros([n]));
    normal("emb", [c.buckets, c.dim], c.initStd);
    let width = c.dim;
    if (c.arch === "cnn") {
      glorot("conv_w", c.kernel * c.dim, c.filters);
      zeros("conv_b", c.filters);
      width += c.filters;
    }
    if (c.hidden > 0) {
      glorot("hidden_w", width, c.hidden);
      zeros("hidden_b", c.hidden);
      width = c.hidden;
    }
    glorot("out_w", width, numClasses);
    zeros("out_b", numClasses);
    this.optimizer = new Adam(this.vars, { learningRate: c.learningRate });
  }

  private variable(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, true, `intent${this.id}/${name}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  private w(name: string): tf.Variable {
    return this.vars.get(name)!;
  }

  /** The embedding table's values on the host, read at once (see SASRec.itemTableHost: a wasm heap view). */
  private hostTable(): Float32Array {
    const emb = this.w("emb");
    const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
    if (tf.getBackend() === "wasm" && backend.typedArrayFromHeap) return backend.typedArrayFromHeap(emb);
    const id = (emb as unknown as { dataId: object }).dataId;
    if (this.host?.dataId !== id) this.host = { dataId: id, data: emb.dataSync() as Float32Array };
    return this.host.data;
  }

  /** Weighted sum of embedding rows per pooling row → [rows, dim]. */
  private pool(p: Pooling): tf.Tensor2D {
    return embeddingBagHost(this.w("emb") as tf.Tensor2D, this.hostTable(), p.ids, p.weights, p.rows);
  }

  /** Logits [B, C] of featurised texts. */
  private logits(feats: readonly TextFeatures[], training: boolean): tf.Tensor2D {
    const c = this.config;
    const B = feats.length;
    // The bag: every word id, n-gram id and bigram id of the text, averaged.
    let h: tf.Tensor2D = this.pool(pooling(feats.map((f) => {
      const all = new Int32Array(f.words.reduce((n, w) => n + w.length, f.bigrams.length));
      let o = 0;
      for (const w of f.words) {
        all.set(w, o);
        o += w.length;
      }
      all.set(f.bigrams, o);
      return all;
    })));
    if (c.arch === "cnn") {
      const L = Math.max(c.kernel, ...feats.map((f) => f.words.length));
      const words: Int32Array[] = [];
      for (const f of feats) for (let t = 0; t < L; t++) words.push(f.words[t] ?? new Int32Array(0));
      const wv = this.pool(pooling(words)).reshape([B, L, c.dim]); // [B L d], padding words are 0
      const T = L - c.kernel + 1;
      const windows = tf.concat(Array.from({ length: c.kernel }, (_, j) => tf.slice(wv, [0, j, 0], [B, T, c.dim])), 2); // [B T k·d]
      const conv = tf.relu(dense(windows, this.w("conv_w") as tf.Tensor2D, this.w("conv_b") as tf.Tensor1D)); // [B T F]
      // Windows starting past a text's last full window see only padding: push them below any ReLU output.
      const mask = new Float32Array(B * T);
      feats.forEach((f, b) => {
        const valid = Math.max(1, f.words.length - c.kernel + 1);
        mask.fill(-1e9, b * T + valid, (b + 1) * T);
      });
      const pooled = tf.max(tf.add(conv, tf.tensor3d(mask, [B, T, 1])), 1) as tf.Tensor2D; // [B F]
      h = tf.concat([h, pooled], 1);
    }
    if (training && c.dropout > 0) h = dropout(h, c.dropout, this.rngDropout.tfSeed()) as tf.Tensor2D;
    if (c.hidden > 0) h = tf.relu(dense(h, this.w("hidden_w") as tf.Tensor2D, this.w("hidden_b") as tf.Tensor1D)) as tf.Tensor2D;
    return dense(h, this.w("out_w") as tf.Tensor2D, this.w("out_b") as tf.Tensor1D) as tf.Tensor2D;
  }

  /** One Adam step on a batch of texts and intent indices; returns the mean cross-entropy. */
  trainStep(texts: readonly string[], labels: ArrayLike<number>): number {
    if (texts.length === 0 || texts.length !== labels.length) {
      throw new Error(`IntentClassifier.trainStep: needs as many labels as texts (> 0); got ${texts.length} texts, ${labels.length} labels`);
    }
    const C = this.numClasses;
    const eps = this.config.labelSmoothing;
    const target = new Float32Array(texts.length * C).fill(eps / C);
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!(Number.isInteger(y) && y >= 0 && y < C)) throw new Error(`IntentClassifier.trainStep: label ${y} at row ${i} is outside 0..${C - 1}`);
      target[i * C + y] += 1 - eps;
    }
    const feats = texts.map((t) => this.features.get(t));
    return this.optimizer.minimize(() => {
      const logp = tf.logSoftmax(this.logits(feats, true));
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.tensor2d(target, [texts.length, C]), logp), 1))) as tf.Scalar;
    });
  }

  /**
   * Softmax probabilities [N·C] (row-major) of `texts`, no dropout. Texts are scored in chunks of
   * similar feature count: a batch is padded to its longest text, and one 80-word query in a
   * chunk of short ones made scoring a validation set cost more than five training steps.
   */
  predictProbs(texts: readonly string[], batchSize = 64): Float32Array {
    const C = this.numClasses;
    const out = new Float32Array(texts.length * C);
    const feats = texts.map((t) => this.features.get(t));
    const size = (f: TextFeatures) => f.words.reduce((n, w) => n + w.length, f.bigrams.length);
    const order = feats.map((f, i) => [size(f), i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((x) => x[1]);
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const probs = tf.tidy(() => tf.softmax(this.logits(idx.map((i) => feats[i]!), false)));
      const data = probs.dataSync() as Float32Array;
      idx.forEach((i, r) => out.set(data.subarray(r * C, (r + 1) * C), i * C));
      probs.dispose();
    }
    return out;
  }

  /** Number of trainable floats. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  getState(): IntentClassifierState {
    const weights: IntentClassifierState["weights"] = {};
    for (const [name, v] of this.vars) weights[name] = { shape: v.shape.slice(), data: (v.dataSync() as Float32Array).slice() };
    return { weights, optimizer: this.optimizer.getState(), rng: { dropout: this.rngDropout.state() } };
  }

  setState(state: IntentClassifierState): void {
    for (const [name, v] of this.vars) {
      const w = state.weights[name];
      if (!w || w.data.length !== v.size) {
        throw new Error(`IntentClassifier.setState: weight \`${name}\` ${w ? `has ${w.data.length} floats, the model needs ${v.size}` : "is missing"}; the state comes from another model configuration`);
      }
      const t = tf.tensor(w.data, v.shape);
      v.assign(t);
      t.dispose();
    }
    this.optimizer.setState(state.optimizer);
    this.rngDropout = Rng.restore(state.rng.dropout);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.optimizer.dispose();
  }
}
