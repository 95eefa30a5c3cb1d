/**
 * SASRec's layers: item + learned position embedding, then causal multi-head self-attention
 * blocks (post-LN, as BERT and the S3-Rec authors' PyTorch SASRec). Plain functions over a
 * parameter record, so the model class stays a thin wiring of config, layers, loss and optimizer.
 *
 * Length bucketing: a batch arrives left-padded to its own longest row (L <= maxLen), and its
 * position ids are maxLen-L .. maxLen-1, exactly those of the same rows padded to maxLen, so the
 * outputs never depend on how far a batch was padded.
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../core/rng.ts";
import { addBroadcast, batchMatmul, dense, gelu, layerNorm } from "../tf/ops.ts";

/** The config fields the layers read (see SASRecConfig for their meaning and defaults). */
export interface EncoderConfig {
  hiddenSize: number;
  numBlocks: number;
  numHeads: number;
  innerSize: number;
  activation: "gelu" | "relu";
  maxLen: number;
  initStd: number;
}

export interface BlockParams {
  wq: tf.Variable; bq: tf.Variable; wk: tf.Variable; bk: tf.Variable; wv: tf.Variable; bv: tf.Variable;
  wo: tf.Variable; bo: tf.Variable; ln1g: tf.Variable; ln1b: tf.Variable;
  w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable; ln2g: tf.Variable; ln2b: tf.Variable;
}

export interface EncoderParams {
  /** [V+2, d]: row 0 padding, 1..V items, V+1 the mask token; also the output layer (tied). */
  itemEmb: tf.Variable;
  /** [maxLen, d] */
  posEmb: tf.Variable;
  embLnG: tf.Variable;
  embLnB: tf.Variable;
  blocks: BlockParams[];
}

/**
 * Create every parameter, drawing initial values from `rngInit` in a fixed order (the order
 * decides the weights a seed gives). `variable(name, init)` registers a variable under its
 * logical name (e.g. `block0/wq`) and takes ownership of `init`.
 */
export function createEncoderParams(c: EncoderConfig, vocabSize: number, rngInit: Rng, variable: (name: string, init: tf.Tensor) => tf.Variable): EncoderParams {
  const d = c.hiddenSize;
  const normal = (name: string, shape: number[]) => variable(name, tf.truncatedNormal(shape, 0, c.initStd, "float32", rngInit.tfSeed()));
  const ones = (name: string, n: number) => variable(name, tf.ones([n]));
  const zeros = (name: string, n: number) => variable(name, tf.zeros([n]));
  const itemEmb = normal("item_emb", [vocabSize, d]);
  const posEmb = normal("pos_emb", [c.maxLen, d]);
  const embLnG = ones("emb_ln_g", d);
  const embLnB = zeros("emb_ln_b", d);
  const blocks: BlockParams[] = [];
  for (let i = 0; i < c.numBlocks; i++) {
    const p = (n: string) => `block${i}/${n}`;
    blocks.push({
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
  return { itemEmb, posEmb, embLnG, embLnB, blocks };
}

/** How `encode` reads item rows and applies dropout (the model owns the host table and the streams). */
export interface EncodeContext {
  /** Item-embedding rows for host-side ids → [...shape, d]. */
  items(ids: Int32Array, shape: number[]): tf.Tensor;
  /** Dropout in training, identity otherwise; each call draws a fresh seed. */
  dropout(x: tf.Tensor): tf.Tensor;
}

/**
 * Encode left-padded ids [B, L] (L <= maxLen) → hidden states [B, L, d], or [B, 1, d] for the
 * last position only when `lastOnly` (scoring needs no other output, and causal attention lets
 * the final block skip every other query: about a third less work).
 */
export function encode(p: EncoderParams, c: EncoderConfig, ctx: EncodeContext, ids: Int32Array, B: number, L: number, lastOnly = false): tf.Tensor3D {
  const h = c.numHeads;
  const dh = c.hiddenSize / h;
  const d = c.hiddenSize;
  const items = ctx.items(ids, [B, L]); // [B L d]
  const pos = tf.slice(p.posEmb, [c.maxLen - L, 0], [L, d]); // [L d]
  let x: tf.Tensor = ctx.dropout(layerNorm(addBroadcast(items, pos), p.embLnG as tf.Tensor1D, p.embLnB as tf.Tensor1D));

  // Additive masks, built on the host (no kernels): [B 1 L L], query t may attend key s only if
  // s <= t and s is not padding; [B 1 1 L] for the last query alone, which sees every real key.
  // Allowed entries hold -0 = (1 - 1)·-10000, as the tensor formula produced.
  const lastOnlyBlock = lastOnly ? p.blocks.length - 1 : -1;
  const mask = lastOnlyBlock === 0 ? undefined : tf.tensor4d(attentionMask(ids, B, L), [B, 1, L, L]);
  const lastMask = lastOnly ? tf.tensor4d(lastQueryMask(ids, B, L), [B, 1, 1, L]) : undefined;

  const heads = (t: tf.Tensor, len: number) =>
    t.reshape([B, len, h, dh]).transpose([0, 2, 1, 3]).reshape([B * h, len, dh]) as tf.Tensor3D; // [B·h len dh]
  p.blocks.forEach((b, i) => {
    const queriesLast = lastOnly && i === p.blocks.length - 1;
    const Lq = queriesLast ? 1 : L;
    const xq = queriesLast ? tf.slice(x, [0, L - 1, 0], [B, 1, d]) : x; // [B Lq d]
    const q = heads(dense(xq, b.wq as tf.Tensor2D, b.bq as tf.Tensor1D), Lq);
    const k = heads(dense(x, b.wk as tf.Tensor2D, b.bk as tf.Tensor1D), L);
    const v = heads(dense(x, b.wv as tf.Tensor2D, b.bv as tf.Tensor1D), L);
    const scores = tf.add(
      tf.mul(batchMatmul(q, k, true), 1 / Math.sqrt(dh)).reshape([B, h, Lq, L]),
      (queriesLast ? lastMask : mask)!,
    ); // [B h Lq L]
    const probs = ctx.dropout(tf.softmax(scores, -1)).reshape([B * h, Lq, L]) as tf.Tensor3D;
    const attended = batchMatmul(probs, v).reshape([B, h, Lq, dh]).transpose([0, 2, 1, 3]).reshape([B, Lq, d]); // [B Lq d]
    const attnOut = ctx.dropout(dense(attended, b.wo as tf.Tensor2D, b.bo as tf.Tensor1D));
    const y = layerNorm(tf.add(xq, attnOut), b.ln1g as tf.Tensor1D, b.ln1b as tf.Tensor1D);
    const act = c.activation === "gelu" ? gelu : tf.relu;
    const ff = dense(act(dense(y, b.w1 as tf.Tensor2D, b.b1 as tf.Tensor1D)), b.w2 as tf.Tensor2D, b.b2 as tf.Tensor1D);
    x = layerNorm(tf.add(y, ctx.dropout(ff)), b.ln2g as tf.Tensor1D, b.ln2b as tf.Tensor1D);
  });
  return x as tf.Tensor3D;
}

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
