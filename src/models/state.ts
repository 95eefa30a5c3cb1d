/**
 * Model state as plain data: weights by logical name, Adam moments and the model's own random
 * streams (checkpoints, bit-exact rollback, warm starts), and the flat weight layout the
 * training helpers receive through shared memory.
 */
import * as tf from "@tensorflow/tfjs";
import type { RngState } from "../core/rng.ts";
import type { AdamState } from "../tf/adam.ts";

export type Weights = Record<string, { shape: number[]; data: Float32Array }>;

/** Serialisable model + optimizer state (for checkpoints and bit-exact rollback). */
export interface SASRecState {
  weights: Weights;
  optimizer: AdamState;
  /** The model's own random streams: without them a restored run would draw other dropout masks and negatives. */
  rng: { dropout: RngState; negatives: RngState };
}

/** Copy of every variable, by logical name. */
export function readWeights(vars: ReadonlyMap<string, tf.Variable>): Weights {
  const weights: Weights = {};
  for (const [name, v] of vars) weights[name] = { shape: v.shape, data: v.dataSync().slice() as Float32Array };
  return weights;
}

/** Overwrite every variable from `weights` (all must be present). */
export function assignWeights(vars: ReadonlyMap<string, tf.Variable>, weights: Weights): void {
  for (const [name, v] of vars) {
    const w = weights[name];
    if (!w) throw new Error(`SASRec.setWeights: weight \`${name}\` missing`);
    const t = tf.tensor(w.data, w.shape);
    v.assign(t);
    t.dispose();
  }
}

/** Every variable, concatenated in map order, written into `out`. */
export function writeWeightsFlat(vars: ReadonlyMap<string, tf.Variable>, out: Float32Array): void {
  let offset = 0;
  for (const v of vars.values()) {
    out.set(v.dataSync() as Float32Array, offset);
    offset += v.size;
  }
}

/** Overwrite the variables from `writeWeightsFlat`'s layout. */
export function assignWeightsFlat(vars: ReadonlyMap<string, tf.Variable>, flat: Float32Array): void {
  let offset = 0;
  for (const v of vars.values()) {
    const t = tf.tensor(flat.subarray(offset, offset + v.size), v.shape);
    v.assign(t);
    t.dispose();
    offset += v.size;
  }
}
