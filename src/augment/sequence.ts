/**
 * Sequence ops: rewrite the item sequence of each sample.
 *
 * After CL4SRec (Xie et al. 2022: crop, mask, reorder), CoSeRec (Liu et al. 2021: substitute and
 * insert with correlated items) and Song et al. 2022, "Exploring data augmentation for sequential
 * recommendation" (slide, item dropout, random insertion). Deviations: ops run on next-item
 * training batches, not contrastive views, so labels travel with their items (see batch.ts):
 * masking or substituting an *input* keeps its training target, and inserted items are context
 * only (their target positions get loss weight 0). Every op keeps >= 2 items per sample.
 *
 * Amounts are rounded counts (not independent coin flips) so the change grows with magnitude in
 * every sample, not only on average; positions are drawn uniformly from the rng.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import { maskToken } from "../data/types.ts";
import type { BatchOp, OpInfo } from "./types.ts";
import { applyEdits, choosePositions, type SampleEdit } from "./batch.ts";
import { defineBatchOp, type OpContext } from "./opcontext.ts";

type BatchOpInfo = OpInfo & { target: "batch" };
const seqInfo = (name: string, description: string, magnitude: string, reference: string): BatchOpInfo => ({
  name, family: "sequence", target: "batch", description, magnitude, reference,
});

/** Declarations of the sequence ops, in registry order. */
export const sequenceOpInfos: readonly BatchOpInfo[] = [
  seqInfo("crop", "Keep one random contiguous window of each sequence.",
    "fraction of items removed (round(m*L), at most L-2)", "CL4SRec (Xie et al. 2022)"),
  seqInfo("mask", "Replace random input items with the mask token; their training targets stay the true items.",
    "fraction of input positions masked (round(m*(L-1)))", "CL4SRec (Xie et al. 2022)"),
  seqInfo("reorder", "Shuffle the items of one random contiguous span.",
    "span length as a fraction of the sequence (round(m*L); < 2 means no change)", "CL4SRec (Xie et al. 2022)"),
  seqInfo("substitute", "Replace random input items with a correlated item; targets stay the true items.",
    "fraction of input positions substituted (round(m*(L-1)))", "CoSeRec (Liu et al. 2021)"),
  seqInfo("insert", "Insert a correlated item after random input items, as context (loss weight 0 on it).",
    "items inserted per input position (round(m*(L-1)))", "CoSeRec (Liu et al. 2021)"),
  seqInfo("slide", "Slide the window's end back in time: drop a random number of the newest items.",
    "largest fraction of the newest items dropped (k ~ U{1..round(m*(L-2))})", "Song et al. 2022 (slide window)"),
  seqInfo("item-dropout", "Delete random items anywhere in the sequence.",
    "fraction of the removable items deleted (round(m*(L-2)))", "Song et al. 2022"),
  seqInfo("noise-insert", "Insert uniformly random items after random input items, as context (loss weight 0).",
    "items inserted per input position (round(m*(L-1)))", "Song et al. 2022 (random insertion)"),
];

const range = (from: number, to: number): Int32Array => {
  const r = new Int32Array(to - from);
  for (let i = 0; i < r.length; i++) r[i] = from + i;
  return r;
};

/** Apply `edit(seq, b)` to every sample; `null` leaves it unchanged. */
function perSample(ctx: OpContext, edit: (seq: Int32Array, b: number) => SampleEdit | null) {
  return (batch: TrainBatch, rng: Rng): TrainBatch => {
    const edits = batch.seqs.map((s, b) => edit(s, b));
    if (edits.every((e) => e === null)) return batch;
    return applyEdits(batch, edits, { numItems: ctx.numItems, itemAttributes: ctx.itemAttributes, itemTitleTokens: ctx.titleVocab?.itemTokens }, rng);
  };
}

/** Keep positions `keep` (sorted) of `seq`. */
function keepEdit(seq: Int32Array, keep: Int32Array): SampleEdit {
  return { src: keep, items: Int32Array.from(keep, (i) => seq[i]!) };
}

/** Insert `newItems[k]` after position `after[k]` (positions distinct; item 0 = skip). */
function insertEdit(seq: Int32Array, after: Int32Array, newItems: Int32Array): SampleEdit {
  const ins = new Int32Array(seq.length);
  let added = 0;
  for (let k = 0; k < after.length; k++) if (newItems[k]! > 0) { ins[after[k]!] = newItems[k]!; added++; }
  if (added === 0) return { src: range(0, seq.length), items: seq.slice() };
  const src = new Int32Array(seq.length + added);
  const items = new Int32Array(seq.length + added);
  let j = 0;
  for (let i = 0; i < seq.length; i++) {
    src[j] = i; items[j++] = seq[i]!;
    if (ins[i]! > 0) { src[j] = -1; items[j++] = ins[i]!; }
  }
  return { src, items };
}

/** Build the sequence ops for a dataset context, in `sequenceOpInfos` order. */
export function createSequenceOps(ctx: OpContext): BatchOp[] {
  const mask = maskToken(ctx.numItems);
  const info = (name: string): BatchOpInfo => sequenceOpInfos.find((o) => o.name === name)!;
  const correlated = (rng: Rng, item: number): number => {
    const nb = item >= 1 && item <= ctx.numItems ? ctx.neighbours[item] : undefined;
    return nb && nb.length > 0 ? nb[rng.int(nb.length)]! : 0;
  };

  const crop = defineBatchOp(info("crop"), (batch, m, rng) => perSample(ctx, (seq) => {
    const L = seq.length;
    const removed = Math.min(L - 2, Math.round(m * L));
    if (removed <= 0) return null;
    const start = rng.int(removed + 1);
    return keepEdit(seq, range(start, start + L - removed));
  })(batch, rng));

  const maskOp = defineBatchOp(info("mask"), (batch, m, rng) => perSample(ctx, (seq) => {
    const n = seq.length - 1;
    const pos = choosePositions(rng, n, Math.round(m * n));
    if (pos.length === 0) return null;
    const items = seq.slice();
    for (const p of pos) items[p] = mask;
    return { src: range(0, seq.length), items };
  })(batch, rng));

  const reorder = defineBatchOp(info("reorder"), (batch, m, rng) => perSample(ctx, (seq) => {
    const L = seq.length;
    const span = Math.round(m * L);
    if (span < 2) return null;
    const start = rng.int(L - span + 1);
    const src = range(0, L);
    rng.shuffle(src, start, start + span);
    return keepEdit(seq, src);
  })(batch, rng));

  const substitute = defineBatchOp(info("substitute"), (batch, m, rng) => perSample(ctx, (seq) => {
    const n = seq.length - 1;
    const pos = choosePositions(rng, n, Math.round(m * n));
    const items = seq.slice();
    let changed = false;
    for (const p of pos) {
      const alt = correlated(rng, seq[p]!);
      if (alt > 0) { items[p] = alt; changed = true; }
    }
    return changed ? { src: range(0, seq.length), items } : null;
  })(batch, rng));

  const insertWith = (pickItem: (rng: Rng, seq: Int32Array, p: number) => number) =>
    (batch: TrainBatch, m: number, rng: Rng) => perSample(ctx, (seq) => {
      const n = seq.length - 1;
      const pos = choosePositions(rng, n, Math.round(m * n));
      if (pos.length === 0) return null;
      const newItems = new Int32Array(pos.length);
      for (let k = 0; k < pos.length; k++) newItems[k] = pickItem(rng, seq, pos[k]!);
      const e = insertEdit(seq, pos, newItems);
      return e.items.length === seq.length ? null : e;
    })(batch, rng);

  const insert = defineBatchOp(info("insert"), insertWith((rng, seq, p) => {
    // Correlated with the item before the gap; a masked item falls back to the one after it.
    return correlated(rng, seq[p]!) || correlated(rng, seq[p + 1]!);
  }));

  const noiseInsert = defineBatchOp(info("noise-insert"), insertWith((rng) => 1 + rng.int(ctx.numItems)));

  const slide = defineBatchOp(info("slide"), (batch, m, rng) => perSample(ctx, (seq) => {
    const L = seq.length;
    const kmax = Math.min(L - 2, Math.round(m * (L - 2)));
    if (kmax <= 0) return null;
    const k = 1 + rng.int(kmax);
    return keepEdit(seq, range(0, L - k));
  })(batch, rng));

  const itemDropout = defineBatchOp(info("item-dropout"), (batch, m, rng) => perSample(ctx, (seq) => {
    const L = seq.length;
    const drop = choosePositions(rng, L, Math.round(m * (L - 2)));
    if (drop.length === 0) return null;
    const dropped = new Uint8Array(L);
    for (const p of drop) dropped[p] = 1;
    const keep = new Int32Array(L - drop.length);
    let j = 0;
    for (let i = 0; i < L; i++) if (!dropped[i]) keep[j++] = i;
    return keepEdit(seq, keep);
  })(batch, rng));

  const byName = new Map<string, BatchOp>(
    [crop, maskOp, reorder, substitute, insert, slide, itemDropout, noiseInsert].map((op) => [op.name, op]),
  );
  return sequenceOpInfos.map((i) => byName.get(i.name)!);
}
