/**
 * The augmentation-op contract.
 *
 * An op is a pure function of (input, magnitude, rng): the same rng state gives the same output,
 * magnitude 0 returns the input unchanged, magnitude 1 is the strongest setting that still gives a
 * valid output. Inputs are never mutated; an op returns a new object (it may share untouched arrays).
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";

/** Which part of the training signal an op rewrites. */
export type OpFamily = "sequence" | "label" | "context" | "text" | "transformer" | "view";

/** What an op is applied to: a training batch (sequence/label/context ops) or a list of texts (text ops). */
export type OpTarget = "batch" | "text";

/** Declared metadata of an op; the registry and `rl-train augment --list` print this. */
export interface OpInfo {
  /** Unique kebab-case name, e.g. `crop`. */
  name: string;
  family: OpFamily;
  target: OpTarget;
  /** One sentence: what the op does. */
  description: string;
  /** What magnitude m ∈ [0,1] means for this op, e.g. "fraction of the sequence removed". */
  magnitude: string;
  /** Literature reference, if any. */
  reference?: string;
}

export interface BatchOp extends OpInfo {
  target: "batch";
  apply(batch: TrainBatch, magnitude: number, rng: Rng): TrainBatch;
}

export interface TextOp extends OpInfo {
  target: "text";
  apply(texts: readonly string[], magnitude: number, rng: Rng): string[];
}

export type AugmentOp = BatchOp | TextOp;
