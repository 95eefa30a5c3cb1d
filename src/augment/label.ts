/**
 * Label / output ops: leave the input sequence alone and change what the loss sees
 * (`labelSmoothing`, `targets`, `weights`, `negatives`).
 *
 * Label smoothing after Szegedy et al. 2016; target jitter and hard negatives use the same
 * correlation table as the CoSeRec-style sequence ops; popularity-based negatives follow the
 * word2vec/BPR practice of sampling negatives by frequency.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import type { BatchOp, OpInfo } from "./types.ts";
import { choosePositions, targetsOf, uniformItem } from "./batch.ts";
import { defineBatchOp, type OpContext } from "./opcontext.ts";

type BatchOpInfo = OpInfo & { target: "batch" };
const labelInfo = (name: string, description: string, magnitude: string, reference?: string): BatchOpInfo => ({
  name, family: "label", target: "batch", description, magnitude, ...(reference ? { reference } : {}),
});

/** Declarations of the label ops, in registry order. */
export const labelOpInfos: readonly BatchOpInfo[] = [
  labelInfo("label-smoothing", "Set the loss's label-smoothing epsilon for the batch.",
    "epsilon = m * maxLabelSmoothing (default 0.2)", "Szegedy et al. 2016"),
  labelInfo("target-jitter", "Replace random training targets with a correlated item.",
    "fraction of target positions replaced (round(m*(L-1)))"),
  labelInfo("rank-truncate", "Zero the loss weight of the oldest target positions, keeping at least the newest.",
    "fraction of the droppable positions zeroed (round(m*(L-2)))"),
  labelInfo("negative-hardness", "Give random positions a hard negative: a correlated item, else a popularity-sampled one.",
    "fraction of positions with a hard negative (round(m*(L-1))); the rest keep theirs or get a uniform one"),
];

/** Build the label ops for a dataset context, in `labelOpInfos` order. */
export function createLabelOps(ctx: OpContext): BatchOp[] {
  const info = (name: string): BatchOpInfo => labelOpInfos.find((o) => o.name === name)!;

  const labelSmoothing = defineBatchOp(info("label-smoothing"), (batch, m) => ({
    ...batch,
    labelSmoothing: m * ctx.maxLabelSmoothing,
  }));

  const targetJitter = defineBatchOp(info("target-jitter"), (batch, m, rng) => {
    const targets = batch.seqs.map((_, b) => {
      const old = targetsOf(batch, b);
      const pos = choosePositions(rng, old.length, Math.round(m * old.length));
      const tg = old.slice();
      for (const p of pos) {
        const nb = ctx.neighbours[old[p]!];
        if (nb && nb.length > 0) tg[p] = nb[rng.int(nb.length)]!;
      }
      return tg;
    });
    const out: TrainBatch = { ...batch, targets };
    // A jittered target may now equal its negative: redraw those so the pair stays informative.
    if (batch.negatives) out.negatives = fixNegatives(batch.negatives, targets, rng, ctx.numItems);
    return out;
  });

  const rankTruncate = defineBatchOp(info("rank-truncate"), (batch, m) => {
    const weights = batch.seqs.map((s, b) => {
      const n = s.length - 1;
      const zero = Math.min(n - 1, Math.round(m * (n - 1)));
      const w = batch.weights?.[b]?.slice() ?? new Float32Array(n).fill(1);
      w.fill(0, 0, Math.max(0, zero));
      return w;
    });
    return { ...batch, weights };
  });

  const negativeHardness = defineBatchOp(info("negative-hardness"), (batch, m, rng) => {
    const negatives = batch.seqs.map((_, b) => {
      const tg = targetsOf(batch, b);
      const neg = batch.negatives?.[b]?.slice() ?? Int32Array.from(tg, (t) => uniformItem(rng, ctx.numItems, t));
      for (const p of choosePositions(rng, tg.length, Math.round(m * tg.length))) neg[p] = hardNegative(ctx, rng, tg[p]!);
      return neg;
    });
    return { ...batch, negatives };
  });

  const byName = new Map<string, BatchOp>([labelSmoothing, targetJitter, rankTruncate, negativeHardness].map((op) => [op.name, op]));
  return labelOpInfos.map((i) => byName.get(i.name)!);
}

/** A correlated item of `target` if it has any (other than itself), else a popularity-weighted one. */
export function hardNegative(ctx: OpContext, rng: Rng, target: number): number {
  const nb = ctx.neighbours[target];
  if (nb && nb.length > 0) {
    const c = nb[rng.int(nb.length)]!;
    if (c !== target) return c;
  }
  return ctx.popularitySampler.sample(rng, target);
}

function fixNegatives(negs: readonly Int32Array[], targets: readonly Int32Array[], rng: Rng, numItems: number): Int32Array[] {
  return negs.map((n, b) => {
    let out: Int32Array | undefined;
    for (let i = 0; i < n.length; i++) {
      if (n[i] === targets[b]![i]) (out ??= n.slice())[i] = uniformItem(rng, numItems, n[i]);
    }
    return out ?? n;
  });
}
