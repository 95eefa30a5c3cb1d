/**
 * Context ops: perturb the side features of the input items (attributes, title tokens,
 * timestamps) and leave items and labels alone.
 *
 * The features are per item, aligned with `seqs[b]` (length L). `withContext` fills
 * `attributes` and `titleTokens` from the catalogue; `times` come from the batcher when the
 * dataset has timestamps (Beauty.txt has none, so `time-jitter` is a no-op there). An op whose
 * field is missing returns the batch unchanged, so a policy can list it on any dataset.
 * Only input positions (0..L-2) are perturbed: the last item is a target, never a feature.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import { maskToken } from "../data/types.ts";
import type { BatchOp, OpInfo } from "./types.ts";
import { choosePositions } from "./batch.ts";
import { defineBatchOp, type OpContext } from "./opcontext.ts";

type BatchOpInfo = OpInfo & { target: "batch" };
const ctxInfo = (name: string, description: string, magnitude: string): BatchOpInfo => ({
  name, family: "context", target: "batch", description, magnitude,
});

/** Declarations of the context ops, in registry order. */
export const contextOpInfos: readonly BatchOpInfo[] = [
  ctxInfo("attribute-dropout", "Remove all attributes of random input items (needs batch.attributes, see withContext).",
    "fraction of input items whose attributes are removed (round(m*(L-1)))"),
  ctxInfo("attribute-mask", "Replace random attribute ids of the input items with the attribute mask token (numAttributes + 1).",
    "fraction of the sample's input attribute ids masked"),
  ctxInfo("title-token-dropout", "Delete random title tokens of the input items (needs batch.titleTokens, see withContext).",
    "fraction of the sample's input title tokens deleted"),
  ctxInfo("title-token-mask", "Replace random title tokens of the input items with the title mask token (vocab size + 1).",
    "fraction of the sample's input title tokens masked"),
  ctxInfo("time-jitter", "Add Gaussian noise to the timestamps, keeping them non-decreasing (needs batch.times).",
    "noise sd = m * the sample's median gap between items (1 day if all gaps are 0)"),
];

/** Attribute mask token for a catalogue with ids 1..numAttributes. */
export function attributeMaskToken(numAttributes: number): number {
  return numAttributes + 1;
}

/** Title mask token for a vocabulary with ids 1..size. */
export function titleMaskToken(vocabSize: number): number {
  return vocabSize + 1;
}

const EMPTY = new Int32Array(0);

/**
 * Fill `attributes` and `titleTokens` (per item, aligned with `seqs`) from the op context's
 * catalogue tables; the mask token and unknown items get an empty list. Fields the context has
 * no table for are left as they are. Returns a new batch.
 */
export function withContext(batch: TrainBatch, ctx: OpContext): TrainBatch {
  const mask = maskToken(batch.numItems);
  const lookup = (table: readonly Int32Array[]) => batch.seqs.map((s) => Array.from(s, (it) => (it === mask ? EMPTY : table[it] ?? EMPTY)));
  const out: TrainBatch = { ...batch };
  if (ctx.itemAttributes) out.attributes = lookup(ctx.itemAttributes);
  if (ctx.titleVocab) out.titleTokens = lookup(ctx.titleVocab.itemTokens);
  return out;
}

/**
 * Rewrite the token lists of input positions: `round(m * total)` of all tokens of the sample's
 * inputs are chosen, and `edit(row, hit, offset)` returns the new row of each position hit
 * (`hit[offset + k]` is 1 for a chosen token k of that row).
 */
function editTokens(
  rows: readonly Int32Array[][],
  rng: Rng,
  m: number,
  edit: (row: Int32Array, hit: Uint8Array, offset: number) => Int32Array,
): Int32Array[][] {
  return rows.map((sample) => {
    const n = sample.length - 1;
    let total = 0;
    for (let i = 0; i < n; i++) total += sample[i]!.length;
    const chosen = choosePositions(rng, total, Math.round(m * total));
    if (chosen.length === 0) return sample;
    const hit = new Uint8Array(total);
    for (let c = 0; c < chosen.length; c++) hit[chosen[c]!] = 1;
    const out = sample.slice();
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const len = sample[i]!.length;
      let any = false;
      for (let k = 0; k < len && !any; k++) any = hit[offset + k] === 1;
      if (any) out[i] = edit(sample[i]!, hit, offset);
      offset += len;
    }
    return out;
  });
}

function dropHits(row: Int32Array, hit: Uint8Array, offset: number): Int32Array {
  let keep = 0;
  for (let k = 0; k < row.length; k++) if (hit[offset + k] === 0) keep++;
  const out = new Int32Array(keep);
  for (let k = 0, j = 0; k < row.length; k++) if (hit[offset + k] === 0) out[j++] = row[k]!;
  return out;
}

const maskHits = (token: number) => (row: Int32Array, hit: Uint8Array, offset: number): Int32Array => {
  const out = row.slice();
  for (let k = 0; k < row.length; k++) if (hit[offset + k] === 1) out[k] = token;
  return out;
};

/** Build the context ops for a dataset context, in `contextOpInfos` order. */
export function createContextOps(ctx: OpContext): BatchOp[] {
  const info = (name: string): BatchOpInfo => contextOpInfos.find((o) => o.name === name)!;

  const attributeDropout = defineBatchOp(info("attribute-dropout"), (batch, m, rng) => {
    if (!batch.attributes) return batch;
    const attributes = batch.attributes.map((sample) => {
      const n = sample.length - 1;
      const pos = choosePositions(rng, n, Math.round(m * n));
      if (pos.length === 0) return sample;
      const out = sample.slice();
      for (const p of pos) out[p] = EMPTY;
      return out;
    });
    return { ...batch, attributes };
  });

  const attributeMask = defineBatchOp(info("attribute-mask"), (batch, m, rng) => {
    if (!batch.attributes) return batch;
    if (ctx.numAttributes === undefined) {
      throw new Error("op `attribute-mask`: the op context has no `numAttributes`; build it with a catalogue that has attributes");
    }
    return { ...batch, attributes: editTokens(batch.attributes, rng, m, maskHits(attributeMaskToken(ctx.numAttributes))) };
  });

  const titleDropout = defineBatchOp(info("title-token-dropout"), (batch, m, rng) => {
    if (!batch.titleTokens) return batch;
    return { ...batch, titleTokens: editTokens(batch.titleTokens, rng, m, dropHits) };
  });

  const titleMask = defineBatchOp(info("title-token-mask"), (batch, m, rng) => {
    if (!batch.titleTokens) return batch;
    if (!ctx.titleVocab) {
      throw new Error("op `title-token-mask`: the op context has no `titleVocab`; build it with a catalogue that has titles");
    }
    return { ...batch, titleTokens: editTokens(batch.titleTokens, rng, m, maskHits(titleMaskToken(ctx.titleVocab.size))) };
  });

  const timeJitter = defineBatchOp(info("time-jitter"), (batch, m, rng) => {
    if (!batch.times) return batch;
    const times = batch.times.map((t) => {
      const sd = m * medianGap(t);
      const out = new Float64Array(t.length);
      for (let i = 0; i < t.length; i++) out[i] = t[i]! + rng.normal(0, sd);
      // Running max keeps the order the items happened in: jitter moves times, never reorders them.
      for (let i = 1; i < out.length; i++) if (out[i]! < out[i - 1]!) out[i] = out[i - 1]!;
      return out;
    });
    return { ...batch, times };
  });

  const byName = new Map<string, BatchOp>([attributeDropout, attributeMask, titleDropout, titleMask, timeJitter].map((op) => [op.name, op]));
  return contextOpInfos.map((i) => byName.get(i.name)!);
}

/** Median of the positive gaps between consecutive times; 86400 s (1 day) when there are none. */
function medianGap(t: Float64Array): number {
  const gaps: number[] = [];
  for (let i = 1; i < t.length; i++) if (t[i]! > t[i - 1]!) gaps.push(t[i]! - t[i - 1]!);
  if (gaps.length === 0) return 86400;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}
