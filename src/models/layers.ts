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
  const d = c.hiddenSize;
  let x = embed(p, c, ctx, ids, B, L);
  // Additive masks, built on the host (no kernels): [B 1 L L], query t may attend key s only if
  // s <= t and s is not padding; [B 1 1 L] for the last query alone, which sees every real key.
  // Allowed entries hold -0 = (1 - 1)·-10000, as the tensor formula produced.
  const lastOnlyBlock = lastOnly ? p.blocks.length - 1 : -1;
  const mask = lastOnlyBlock === 0 ? undefined : tf.tensor4d(attentionMask(ids, B, L), [B, 1, L, L]);
  const lastMask = lastOnly ? tf.tensor4d(lastQueryMask(ids, B, L), [B, 1, 1, L]) : undefined;
  p.blocks.forEach((b, i) => {
    const queriesLast = lastOnly && i === p.blocks.length - 1;
    const xq = queriesLast ? tf.slice(x, [0, L - 1, 0], [B, 1, d]) : x; // [B Lq d]
    const q = dense(xq, b.wq as tf.Tensor2D, b.bq as tf.Tensor1D);
    const attended = attend(c, ctx, b, q, x, B, queriesLast ? 1 : L, L, (queriesLast ? lastMask : mask)!); // [B Lq d]
    x = feedForward(c, ctx, b, xq, attended);
  });
  return x as tf.Tensor3D;
}

/**
 * `encode` for rows of two kinds in one pass: the first `fullRows` rows give every position
 * ([fullRows, L, d]), the other rows only their last one ([n − fullRows, d]; the final block
 * computes their last query alone). Contrastive steps encode the recommendation rows with their
 * views this way: one set of kernel launches, and the views skip most of the final block.
 */
export function encodeMixed(p: EncoderParams, c: EncoderConfig, ctx: EncodeContext, ids: Int32Array, n: number, L: number, fullRows: number): { full: tf.Tensor3D; last: tf.Tensor2D } {
  const d = c.hiddenSize;
  const F = fullRows;
  const V = n - F;
  let x = embed(p, c, ctx, ids, n, L);
  const mask = tf.tensor4d(attentionMask(ids, n, L), [n, 1, L, L]);
  p.blocks.slice(0, -1).forEach((b) => {
    x = feedForward(c, ctx, b, x, attend(c, ctx, b, dense(x, b.wq as tf.Tensor2D, b.bq as tf.Tensor1D), x, n, L, L, mask));
  });
  const b = p.blocks[p.blocks.length - 1]!;
  // Query rows: every position of the full rows, then the last position of the others.
  const xq = tf.concat([tf.slice(x, [0, 0, 0], [F, L, d]).reshape([F * L, d]), tf.slice(x, [F, L - 1, 0], [V, 1, d]).reshape([V, d])], 0); // [FL+V d]
  const q = dense(xq, b.wq as tf.Tensor2D, b.bq as tf.Tensor1D);
  const k = dense(x, b.wk as tf.Tensor2D, b.bk as tf.Tensor1D); // [n L d]
  const v = dense(x, b.wv as tf.Tensor2D, b.bv as tf.Tensor1D);
  const rows = (t: tf.Tensor, from: number, count: number) => tf.slice(t, [from, 0, 0], [count, L, d]);
  const attendedFull = attendProjected(c, ctx, tf.slice(q, [0, 0], [F * L, d]), rows(k, 0, F), rows(v, 0, F), F, L, L, tf.slice(mask, [0, 0, 0, 0], [F, 1, L, L]));
  const lastMask = tf.tensor4d(lastQueryMask(ids.subarray(F * L), V, L), [V, 1, 1, L]);
  const attendedLast = attendProjected(c, ctx, tf.slice(q, [F * L, 0], [V, d]), rows(k, F, V), rows(v, F, V), V, 1, L, lastMask);
  const out = feedForward(c, ctx, b, xq, tf.concat([attendedFull.reshape([F * L, d]), attendedLast.reshape([V, d])], 0)); // [FL+V d]
  return { full: tf.slice(out, [0, 0], [F * L, d]).reshape([F, L, d]) as tf.Tensor3D, last: tf.slice(out, [F * L, 0], [V, d]) as tf.Tensor2D };
}

/** Item + position embedding, LayerNorm, dropout → [B, L, d]. */
function embed(p: EncoderParams, c: EncoderConfig, ctx: EncodeContext, ids: Int32Array, B: number, L: number): tf.Tensor {
  const d = c.hiddenSize;
  const items = ctx.items(ids, [B, L]); // [B L d]
  const pos = tf.slice(p.posEmb, [c.maxLen - L, 0], [L, d]); // [L d]
  return ctx.dropout(layerNorm(addBroadcast(items, pos), p.embLnG as tf.Tensor1D, p.embLnB as tf.Tensor1D));
}

/** Multi-head attention of projected queries `q` ([B, Lq, d] or [B·Lq, d]) over keys and values projected from `x` [B, L, d]. */
function attend(c: EncoderConfig, ctx: EncodeContext, b: BlockParams, q: tf.Tensor, x: tf.Tensor, B: number, Lq: number, L: number, mask: tf.Tensor): tf.Tensor {
  const k = dense(x, b.wk as tf.Tensor2D, b.bk as tf.Tensor1D);
  const v = dense(x, b.wv as tf.Tensor2D, b.bv as tf.Tensor1D);
  return attendProjected(c, ctx, q, k, v, B, Lq, L, mask);
}

/** Scaled dot-product attention with dropout on the probabilities → [B, Lq, d] (heads merged). */
function attendProjected(c: EncoderConfig, ctx: EncodeContext, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, B: number, Lq: number, L: number, mask: tf.Tensor): tf.Tensor {
  const h = c.numHeads;
  const dh = c.hiddenSize / h;
  const heads = (t: tf.Tensor, len: number) =>
    t.reshape([B, len, h, dh]).transpose([0, 2, 1, 3]).reshape([B * h, len, dh]) as tf.Tensor3D; // [B·h len dh]
  const scores = tf.add(tf.mul(batchMatmul(heads(q, Lq), heads(k, L), true), 1 / Math.sqrt(dh)).reshape([B, h, Lq, L]), mask); // [B h Lq L]
  const probs = ctx.dropout(tf.softmax(scores, -1)).reshape([B * h, Lq, L]) as tf.Tensor3D;
  return batchMatmul(probs, heads(v, L)).reshape([B, h, Lq, dh]).transpose([0, 2, 1, 3]).reshape([B, Lq, c.hiddenSize]); // [B Lq d]
}

/** Output projection, residual + LayerNorm, position-wise feed-forward, residual + LayerNorm (post-LN). */
function feedForward(c: EncoderConfig, ctx: EncodeContext, b: BlockParams, xq: tf.Tensor, attended: tf.Tensor): tf.Tensor {
  const attnOut = ctx.dropout(dense(attended, b.wo as tf.Tensor2D, b.bo as tf.Tensor1D));
  const y = layerNorm(tf.add(xq, attnOut), b.ln1g as tf.Tensor1D, b.ln1b as tf.Tensor1D);
  const act = c.activation === "gelu" ? gelu : tf.relu;
  const ff = dense(act(dense(y, b.w1 as tf.Tensor2D, b.b1 as tf.Tensor1D)), b.w2 as tf.Tensor2D, b.b2 as tf.Tensor1D);
  return layerNorm(tf.add(y, ctx.dropout(ff)), b.ln2g as tf.Tensor1D, b.ln2b as tf.Tensor1D);
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
