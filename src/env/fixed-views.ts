/**
 * A contrastive training step with one fixed view op, outside the RL loop: what the env's
 * `contrastive` branch does for a constant action, for supervised training to the best
 * validation epoch (`trainSupervised(..., { step })`) and for benchmarks.
 */
import type { Rng } from "../core/rng.ts";
import { buildOpContext, createBatchOps, makeViews, SameTargetIndex, viewOpNames, type ViewContext } from "../augment/index.ts";
import type { LeaveOneOutSplit, TrainBatch } from "../data/types.ts";
import type { SASRec } from "../models/sasrec.ts";
import type { ResolvedEnvSpec } from "./spec.ts";

/**
 * `(batch) => loss`: every batch trains with `rl.contrastive` InfoNCE between the views `op`
 * makes at `magnitude` (a sequence op, `dropout-view` or `supervised-positive`), drawing from `rng`.
 */
export function fixedViewStep(spec: ResolvedEnvSpec, split: LeaveOneOutSplit, model: SASRec, op: string, magnitude: number, rng: Rng): (batch: TrainBatch) => number {
  const ops = createBatchOps(buildOpContext({ numItems: split.dataset.numItems, train: split.train, catalogue: split.dataset.catalogue }));
  if (!ops.has(op) && !viewOpNames.includes(op)) {
    throw new Error(`unknown view op \`${op}\`; known: ${[...viewOpNames, ...ops.keys()].join(", ")}`);
  }
  if (!(magnitude > 0 && magnitude <= 1)) throw new Error(`the magnitude of \`${op}\` must be in (0, 1], got ${magnitude}`);
  const ctx: ViewContext = { ops, applyMode: spec.rl.applyMode, train: split.train };
  if (op === "supervised-positive") ctx.sameTarget = new SameTargetIndex(split.train, split.dataset.numItems, spec.model.maxLen);
  const policy = [{ op, probability: 1, magnitude }];
  return (batch) => model.trainStepContrastive(batch, makeViews(batch, policy, ctx, rng), spec.rl.contrastive);
}
