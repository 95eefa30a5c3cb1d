/**
 * Sub-policies (AutoAugment, Cubuk et al. 2019): an ordered list of (op, probability, magnitude)
 * steps. Each step fires with its probability, either once for the whole batch or independently
 * for each sample, and fired steps apply in list order.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import type { BatchOp } from "./types.ts";
import { mergeSamples, selectSamples } from "./batch.ts";
import { requireOp } from "./registry.ts";

/** One step of a sub-policy. */
export interface SubPolicyStep {
  /** Registered batch-op name, e.g. `crop`. */
  op: string;
  /** Chance the step fires, in [0, 1]. */
  probability: number;
  /** Op magnitude, in [0, 1]. */
  magnitude: number;
}

export type SubPolicy = readonly SubPolicyStep[];

/** `batch`: one coin per step for the whole batch. `sample`: one coin per step and sample. */
export type ApplyMode = "batch" | "sample";

/** Throw on unknown op names or out-of-range numbers, naming the step. */
export function validateSubPolicy(policy: SubPolicy, ops: ReadonlyMap<string, BatchOp>): void {
  policy.forEach((s, i) => {
    requireOp(ops, s.op);
    if (!(s.probability >= 0 && s.probability <= 1)) {
      throw new RangeError(`sub-policy step ${i} (\`${s.op}\`): \`probability\` must be in [0, 1], got ${s.probability}`);
    }
    if (!(s.magnitude >= 0 && s.magnitude <= 1)) {
      throw new RangeError(`sub-policy step ${i} (\`${s.op}\`): \`magnitude\` must be in [0, 1], got ${s.magnitude}`);
    }
  });
}

/**
 * Apply a sub-policy. Deterministic given the rng; the input batch is not mutated.
 * In `sample` mode an op runs once on the sub-batch of the samples whose coin came up, so
 * batch-level fields (`labelSmoothing`) apply to the whole batch if any sample fired.
 */
export function applySubPolicy(
  batch: TrainBatch,
  policy: SubPolicy,
  ops: ReadonlyMap<string, BatchOp>,
  rng: Rng,
  mode: ApplyMode = "batch",
): TrainBatch {
  validateSubPolicy(policy, ops);
  let out = batch;
  for (const step of policy) {
    const op = ops.get(step.op)!;
    if (mode === "batch") {
      if (rng.bernoulli(step.probability)) out = op.apply(out, step.magnitude, rng);
      continue;
    }
    const idx: number[] = [];
    for (let b = 0; b < out.seqs.length; b++) if (rng.bernoulli(step.probability)) idx.push(b);
    if (idx.length === 0) continue;
    if (idx.length === out.seqs.length) {
      out = op.apply(out, step.magnitude, rng);
      continue;
    }
    const sub = op.apply(selectSamples(out, idx), step.magnitude, rng);
    out = mergeSamples(out, idx, sub, rng);
  }
  return out;
}
