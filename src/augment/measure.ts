/**
 * How much an op changed a batch, one measure per family, each 0 for an unchanged batch and
 * roughly in [0, 1]. Tests use them to check that change grows with magnitude; the env may use
 * them as observation features ("how strong was the augmentation really").
 *
 * - sequence: mean normalised edit distance between old and new `seqs[b]`.
 * - label: mean over samples of the fraction of target positions whose (target, weight,
 *   negative) differs, plus the change in `labelSmoothing`. Where positions are the same.
 * - context: the most-changed context field: fraction of attribute ids (or title tokens)
 *   removed or changed, or mean |time change| in units of the sample's median gap (capped at 1).
 */
import type { TrainBatch } from "../data/types.ts";
import type { OpFamily } from "./types.ts";
import type { OpContext } from "./opcontext.ts";
import { targetsOf } from "./batch.ts";

/** Levenshtein distance between two id arrays (O(n*m), fine for sequences of <= a few hundred). */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** Mean normalised edit distance of the sequences. */
export function sequenceChange(before: TrainBatch, after: TrainBatch): number {
  let s = 0;
  for (let b = 0; b < before.seqs.length; b++) {
    const x = before.seqs[b]!;
    const y = after.seqs[b]!;
    s += editDistance(x, y) / Math.max(x.length, y.length);
  }
  return before.seqs.length ? s / before.seqs.length : 0;
}

/**
 * Fraction of label positions changed. Negatives count as changed only when they became "hard"
 * (a neighbour of the target or among the 1 % most popular items) if `ctx` is given, since a
 * missing `negatives` field and a uniform one mean the same to the loss.
 */
export function labelChange(before: TrainBatch, after: TrainBatch, ctx?: OpContext): number {
  const hard = ctx ? hardTest(ctx) : undefined;
  let s = 0;
  for (let b = 0; b < before.seqs.length; b++) {
    const t0 = targetsOf(before, b);
    const t1 = targetsOf(after, b);
    const n = Math.min(t0.length, t1.length);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const w0 = before.weights?.[b]?.[i] ?? 1;
      const w1 = after.weights?.[b]?.[i] ?? 1;
      const n0 = before.negatives?.[b]?.[i];
      const n1 = after.negatives?.[b]?.[i];
      let negChanged = n0 !== n1;
      if (hard && negChanged) negChanged = hard(t1[i]!, n1 ?? 0) !== (n0 !== undefined && hard(t0[i]!, n0));
      if (t0[i] !== t1[i] || w0 !== w1 || negChanged) changed++;
    }
    s += n ? changed / n : 0;
  }
  const ls = Math.abs((after.labelSmoothing ?? 0) - (before.labelSmoothing ?? 0));
  return (before.seqs.length ? s / before.seqs.length : 0) + ls;
}

function hardTest(ctx: OpContext): (target: number, neg: number) => boolean {
  const ranked = Array.from({ length: ctx.numItems }, (_, k) => k + 1).sort((a, b) => ctx.popularity[b]! - ctx.popularity[a]!);
  const top = new Set(ranked.slice(0, Math.max(1, Math.ceil(ctx.numItems / 100))));
  return (t, n) => top.has(n) || (ctx.neighbours[t]?.includes(n) ?? false);
}

/** Largest per-field change: fraction of context ids removed or changed, or normalised time movement. */
export function contextChange(before: TrainBatch, after: TrainBatch): number {
  let s = 0;
  const lists = (x?: Int32Array[][], y?: Int32Array[][]): void => {
    if (!x || !y) return;
    let total = 0;
    let changed = 0;
    for (let b = 0; b < x.length; b++) {
      for (let i = 0; i < x[b]!.length; i++) {
        const r0 = x[b]![i]!;
        const r1 = y[b]![i] ?? new Int32Array(0);
        total += r0.length;
        changed += r0.length - r1.length;
        for (let k = 0; k < r1.length; k++) if (!r0.includes(r1[k]!)) changed++;
      }
    }
    s = Math.max(s, total ? changed / total : 0);
  };
  lists(before.attributes, after.attributes);
  lists(before.titleTokens, after.titleTokens);
  if (before.times && after.times) {
    let acc = 0;
    let n = 0;
    for (let b = 0; b < before.times.length; b++) {
      const t0 = before.times[b]!;
      const t1 = after.times[b]!;
      const gaps: number[] = [];
      for (let i = 1; i < t0.length; i++) if (t0[i]! > t0[i - 1]!) gaps.push(t0[i]! - t0[i - 1]!);
      gaps.sort((p, q) => p - q);
      const scale = gaps.length ? gaps[gaps.length >> 1]! : 86400;
      for (let i = 0; i < t0.length; i++, n++) acc += Math.min(1, Math.abs(t1[i]! - t0[i]!) / scale);
    }
    s = Math.max(s, n ? acc / n : 0);
  }
  return s;
}

/** The change measure of an op family (text families are measured by the text engineer's code). */
export function changeOf(family: OpFamily, before: TrainBatch, after: TrainBatch, ctx?: OpContext): number {
  switch (family) {
    case "sequence": return sequenceChange(before, after);
    case "label": return labelChange(before, after, ctx);
    case "context": return contextChange(before, after);
    default: throw new Error(`changeOf: no batch change measure for family \`${family}\`; use one of sequence, label, context`);
  }
}
