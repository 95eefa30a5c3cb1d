/**
 * Batch plumbing shared by the batch ops: per-sample edits that keep every per-position array
 * aligned with `seqs`, sub-batch select/merge for per-sample sub-policies, and a validator.
 *
 * Alignment used throughout augrl (see `TrainBatch`):
 * - `targets`, `weights`, `negatives` have one entry per *input* position: length `L - 1`,
 *   entry t belongs to predicting position t + 1.
 * - `attributes`, `titleTokens`, `times` have one entry per *item*: length `L` (same as `seqs[b]`),
 *   so a sequence op moves them with the same indices as the items.
 *
 * A sequence op describes its change as a `SampleEdit` (which old position each new position
 * comes from, and the new item ids) and `applyEdits` rebuilds every field. Labels travel with
 * the item they label, so an op that masks or substitutes an *input* leaves the training target
 * of that position untouched, as the op contract requires.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import { maskToken } from "../data/types.ts";

// Lives with the batches in src/data (models slice batches too); re-exported for the ops.
export { selectSamples } from "../data/batches.ts";

/** How one sample changes: new position j holds `items[j]`, taken from old position `src[j]` (-1 = inserted). */
export interface SampleEdit {
  /** Old position of each new position, or -1 for an item that was not in the sequence. */
  src: Int32Array;
  /** Item id at each new position (an *input* may be the mask token). Same length as `src`, >= 2. */
  items: Int32Array;
}

/** Item side information an edit needs to fill context fields for items that changed. */
export interface EditContext {
  numItems: number;
  /** `itemAttributes[item]`; new/substituted items get their catalogue attributes (empty if absent). */
  itemAttributes?: readonly Int32Array[];
  /** `itemTitleTokens[item]`; same role for `titleTokens`. */
  itemTitleTokens?: readonly Int32Array[];
}

const EMPTY_I32 = new Int32Array(0);

/** The explicit or default targets of sample b (a view, do not mutate). */
export function targetsOf(batch: TrainBatch, b: number): Int32Array {
  return batch.targets?.[b] ?? batch.seqs[b]!.subarray(1);
}

/** Uniform item in 1..numItems other than `avoid`. */
export function uniformItem(rng: Rng, numItems: number, avoid = 0): number {
  if (numItems < 2) return 1;
  for (;;) {
    const it = 1 + rng.int(numItems);
    if (it !== avoid) return it;
  }
}

/**
 * `count` distinct indices out of [0, n), in random order (partial Fisher-Yates).
 * Draws exactly `count` numbers, so the stream advances the same way for any content.
 */
export function choosePositions(rng: Rng, n: number, count: number): Int32Array {
  const k = Math.max(0, Math.min(n, count));
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, k);
}

/**
 * Rebuild a batch from per-sample edits (`null` = sample unchanged, arrays shared).
 *
 * - targets: the label of the item now at position t + 1 (labels follow items); an inserted item
 *   is labelled by itself with loss weight 0, so it adds context but no training target.
 * - weights/negatives: follow the labelled item; a new target gets a uniform negative from `rng`.
 * - attributes/titleTokens: kept where the item is unchanged, else looked up (mask token: empty).
 * - times: follow the item, inserted items take their predecessor's time; the result is sorted so
 *   times stay positional (a reordered span keeps its time stamps in order).
 * `targets`/`weights` are written only when the batch had them or some label now differs from
 * the default; `negatives`/`attributes`/`titleTokens`/`times` only when the batch had them.
 */
export function applyEdits(batch: TrainBatch, edits: ReadonlyArray<SampleEdit | null>, ctx: EditContext, rng: Rng): TrainBatch {
  const B = batch.seqs.length;
  if (edits.length !== B) throw new RangeError(`applyEdits: \`edits\` has ${edits.length} entries for a batch of ${B}`);
  const mask = maskToken(batch.numItems);
  const seqs: Int32Array[] = new Array(B);
  const targets: Int32Array[] = new Array(B);
  const weights: Float32Array[] = new Array(B);
  const negatives: Int32Array[] | undefined = batch.negatives ? new Array(B) : undefined;
  const attributes: Int32Array[][] | undefined = batch.attributes ? new Array(B) : undefined;
  const titleTokens: Int32Array[][] | undefined = batch.titleTokens ? new Array(B) : undefined;
  const times: Float64Array[] | undefined = batch.times ? new Array(B) : undefined;
  let needTargets = batch.targets !== undefined;
  let needWeights = batch.weights !== undefined;

  for (let b = 0; b < B; b++) {
    const e = edits[b];
    const oldSeq = batch.seqs[b]!;
    if (!e) {
      seqs[b] = oldSeq;
      targets[b] = targetsOf(batch, b);
      if (batch.weights) weights[b] = batch.weights[b]!;
      if (negatives) negatives[b] = batch.negatives![b]!;
      if (attributes) attributes[b] = batch.attributes![b]!;
      if (titleTokens) titleTokens[b] = batch.titleTokens![b]!;
      if (times) times[b] = batch.times![b]!;
      continue;
    }
    const L = e.items.length;
    if (L < 2 || e.src.length !== L) {
      throw new RangeError(`applyEdits: sample ${b} edit has ${L} items and ${e.src.length} sources; need equal lengths >= 2`);
    }
    const oldLab = targetsOf(batch, b);
    const oldW = batch.weights?.[b];
    const oldNeg = batch.negatives?.[b];
    const seq = e.items.slice();
    const tg = new Int32Array(L - 1);
    const w = new Float32Array(L - 1);
    const neg = negatives ? new Int32Array(L - 1) : undefined;
    for (let j = 0; j < L - 1; j++) {
      const s = e.src[j + 1]!;
      let t: number;
      let wt: number;
      if (s > 0) {
        t = oldLab[s - 1]!;
        wt = oldW ? oldW[s - 1]! : 1;
        if (neg) neg[j] = oldNeg![s - 1]!;
      } else if (s === 0) {
        // The first item is never a target, so its label is the item itself (unknown if masked).
        t = oldSeq[0]!;
        wt = 1;
      } else {
        t = seq[j + 1]!;
        wt = 0;
      }
      if (t === mask || t < 1 || t > batch.numItems) {
        t = seq[j + 1]! === mask ? 1 : seq[j + 1]!;
        wt = 0;
      }
      tg[j] = t;
      w[j] = wt;
      if (neg && s <= 0) neg[j] = uniformItem(rng, batch.numItems, t);
      if (t !== seq[j + 1]) needTargets = true;
      if (wt !== 1) needWeights = true;
    }
    // The last item is only ever a target: a masked input moved there (by crop, slide, reorder,
    // dropout after mask) gets its true item back, so the mask token stays an input-only id.
    if (seq[L - 1] === mask) seq[L - 1] = tg[L - 2]!;
    seqs[b] = seq;
    targets[b] = tg;
    weights[b] = w;
    if (neg) negatives![b] = neg;
    const moved: SampleEdit = { src: e.src, items: seq };
    if (attributes) attributes[b] = moveContext(batch.attributes![b]!, oldSeq, moved, ctx.itemAttributes, mask);
    if (titleTokens) titleTokens[b] = moveContext(batch.titleTokens![b]!, oldSeq, moved, ctx.itemTitleTokens, mask);
    if (times) times[b] = moveTimes(batch.times![b]!, e.src);
  }

  const out: TrainBatch = { ...batch, seqs };
  if (needTargets) out.targets = targets;
  else delete out.targets;
  if (needWeights) {
    for (let b = 0; b < B; b++) if (!weights[b]) weights[b] = new Float32Array(seqs[b]!.length - 1).fill(1);
    out.weights = weights;
  } else delete out.weights;
  if (negatives) out.negatives = negatives;
  if (attributes) out.attributes = attributes;
  if (titleTokens) out.titleTokens = titleTokens;
  if (times) out.times = times;
  return out;
}

function moveContext(
  old: readonly Int32Array[],
  oldSeq: Int32Array,
  e: SampleEdit,
  lookup: readonly Int32Array[] | undefined,
  mask: number,
): Int32Array[] {
  const out: Int32Array[] = new Array(e.items.length);
  for (let j = 0; j < e.items.length; j++) {
    const s = e.src[j]!;
    const it = e.items[j]!;
    if (s >= 0 && oldSeq[s] === it) out[j] = old[s] ?? EMPTY_I32;
    else if (it === mask) out[j] = EMPTY_I32;
    else out[j] = lookup?.[it] ?? EMPTY_I32;
  }
  return out;
}

function moveTimes(old: Float64Array, src: Int32Array): Float64Array {
  const out = new Float64Array(src.length);
  let prev = NaN;
  for (let j = 0; j < src.length; j++) {
    const s = src[j]!;
    if (s >= 0) prev = old[s]!;
    out[j] = prev;
  }
  // Leading inserted items have no predecessor: take the first known time.
  let first = NaN;
  for (let j = 0; j < out.length && Number.isNaN(first); j++) if (!Number.isNaN(out[j]!)) first = out[j]!;
  for (let j = 0; j < out.length && Number.isNaN(out[j]!); j++) out[j] = Number.isNaN(first) ? 0 : first;
  return out.sort();
}

/**
 * Put the samples of `sub` (selected from `batch` at `idx`) back in place.
 * A per-position field that only `sub` has is filled with its default for the other samples
 * (targets = next items, weights = 1, negatives = uniform from `rng`); a batch-level
 * `labelSmoothing` set in `sub` applies to the whole batch (it is one scalar for the loss).
 */
export function mergeSamples(batch: TrainBatch, idx: ArrayLike<number>, sub: TrainBatch, rng: Rng): TrainBatch {
  if (sub.seqs.length !== idx.length) {
    throw new RangeError(`mergeSamples: \`sub\` has ${sub.seqs.length} samples but \`idx\` has ${idx.length}`);
  }
  const B = batch.seqs.length;
  const out: TrainBatch = { ...batch, seqs: batch.seqs.slice() };
  if (sub.labelSmoothing !== undefined) out.labelSmoothing = sub.labelSmoothing;
  const fill = <T>(
    key: "targets" | "weights" | "negatives" | "attributes" | "titleTokens" | "times",
    make: (b: number) => T,
  ): void => {
    const from = (batch as unknown as Record<string, T[] | undefined>)[key];
    const fromSub = (sub as unknown as Record<string, T[] | undefined>)[key];
    if (!from && !fromSub) return;
    const arr: T[] = from ? from.slice() : Array.from({ length: B }, (_, b) => make(b));
    for (let k = 0; k < idx.length; k++) arr[idx[k]!] = fromSub ? fromSub[k]! : make(idx[k]!);
    (out as unknown as Record<string, T[]>)[key] = arr;
  };
  for (let k = 0; k < idx.length; k++) out.seqs[idx[k]!] = sub.seqs[k]!;
  // Defaults are computed from the merged sequences, so fill after seqs are in place.
  fill("targets", (b) => out.seqs[b]!.subarray(1));
  fill("weights", (b) => new Float32Array(out.seqs[b]!.length - 1).fill(1));
  fill("negatives", (b) => {
    const tg = out.targets?.[b] ?? out.seqs[b]!.subarray(1);
    return Int32Array.from(tg, (t) => uniformItem(rng, batch.numItems, t));
  });
  fill("attributes", (b) => Array.from(out.seqs[b]!, () => EMPTY_I32));
  fill("titleTokens", (b) => Array.from(out.seqs[b]!, () => EMPTY_I32));
  fill("times", (b) => new Float64Array(out.seqs[b]!.length));
  return out;
}

/**
 * `batch` followed by the samples of `extra` (e.g. augmented copies of the same users), as one
 * batch. Per-position fields only one side has get their defaults on the other side, as in
 * `mergeSamples` (so does a batch-level `labelSmoothing` set in `extra`).
 */
export function appendSamples(batch: TrainBatch, extra: TrainBatch, rng: Rng): TrainBatch {
  const B = batch.seqs.length;
  const users = new Int32Array(B + extra.seqs.length);
  users.set(batch.users);
  users.set(extra.users, B);
  const base: TrainBatch = { ...batch, users, seqs: [...batch.seqs, ...extra.seqs] };
  return mergeSamples(base, Int32Array.from(extra.seqs, (_, k) => B + k), extra, rng);
}

/** Limits `validateBatch` checks context ids against (unchecked when absent). */
export interface ValidateOptions {
  /** Attribute ids must be in 1..numAttributes + 1 (the +1 is the attribute mask token). */
  numAttributes?: number;
  /** Title token ids must be in 1..titleVocabSize + 1 (the +1 is the title mask token). */
  titleVocabSize?: number;
}

/**
 * Every way a batch breaks the op contract, as messages; empty when valid.
 * Checks: ids in range (mask token only as an input, never the last item), lengths >= 2,
 * per-position arrays aligned, weights finite and >= 0, negatives differ from their target,
 * times finite and non-decreasing.
 */
export function validateBatch(batch: TrainBatch, opts: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  const N = batch.numItems;
  const mask = maskToken(N);
  const B = batch.seqs.length;
  if (batch.users.length !== B) problems.push(`users has ${batch.users.length} entries, seqs ${B}`);
  const perBatch = (name: string, xs: ArrayLike<unknown> | undefined): void => {
    if (xs && xs.length !== B) problems.push(`${name} has ${xs.length} samples, seqs ${B}`);
  };
  perBatch("targets", batch.targets);
  perBatch("weights", batch.weights);
  perBatch("negatives", batch.negatives);
  perBatch("attributes", batch.attributes);
  perBatch("titleTokens", batch.titleTokens);
  perBatch("times", batch.times);
  if (batch.labelSmoothing !== undefined && !(batch.labelSmoothing >= 0 && batch.labelSmoothing < 1)) {
    problems.push(`labelSmoothing ${batch.labelSmoothing} not in [0, 1)`);
  }
  for (let b = 0; b < B && problems.length < 20; b++) {
    const s = batch.seqs[b]!;
    const L = s.length;
    if (L < 2) problems.push(`sample ${b}: length ${L} < 2`);
    for (let i = 0; i < L; i++) {
      const it = s[i]!;
      const okInput = i < L - 1 && it === mask;
      if (!okInput && !(it >= 1 && it <= N)) problems.push(`sample ${b}: seqs[${i}] = ${it} out of 1..${N}`);
    }
    const tg = targetsOf(batch, b);
    if (tg.length !== L - 1) problems.push(`sample ${b}: targets length ${tg.length}, expected ${L - 1}`);
    for (let i = 0; i < tg.length; i++) {
      if (!(tg[i]! >= 1 && tg[i]! <= N)) problems.push(`sample ${b}: targets[${i}] = ${tg[i]} out of 1..${N}`);
    }
    const w = batch.weights?.[b];
    if (w) {
      if (w.length !== L - 1) problems.push(`sample ${b}: weights length ${w.length}, expected ${L - 1}`);
      for (let i = 0; i < w.length; i++) if (!(w[i]! >= 0 && Number.isFinite(w[i]!))) problems.push(`sample ${b}: weights[${i}] = ${w[i]}`);
    }
    const ng = batch.negatives?.[b];
    if (ng) {
      if (ng.length !== L - 1) problems.push(`sample ${b}: negatives length ${ng.length}, expected ${L - 1}`);
      for (let i = 0; i < ng.length; i++) {
        if (!(ng[i]! >= 1 && ng[i]! <= N)) problems.push(`sample ${b}: negatives[${i}] = ${ng[i]} out of 1..${N}`);
        else if (ng[i] === tg[i]) problems.push(`sample ${b}: negatives[${i}] equals its target ${tg[i]}`);
      }
    }
    const ctxCheck = (name: string, xs: readonly Int32Array[] | undefined, max: number | undefined): void => {
      if (!xs) return;
      if (xs.length !== L) problems.push(`sample ${b}: ${name} length ${xs.length}, expected ${L}`);
      if (max === undefined) return;
      for (let i = 0; i < xs.length; i++) {
        for (const id of xs[i]!) if (!(id >= 1 && id <= max + 1)) problems.push(`sample ${b}: ${name}[${i}] has id ${id} out of 1..${max + 1}`);
      }
    };
    ctxCheck("attributes", batch.attributes?.[b], opts.numAttributes);
    ctxCheck("titleTokens", batch.titleTokens?.[b], opts.titleVocabSize);
    const tm = batch.times?.[b];
    if (tm) {
      if (tm.length !== L) problems.push(`sample ${b}: times length ${tm.length}, expected ${L}`);
      for (let i = 0; i < tm.length; i++) {
        if (!Number.isFinite(tm[i]!)) problems.push(`sample ${b}: times[${i}] = ${tm[i]}`);
        else if (i > 0 && tm[i]! < tm[i - 1]!) problems.push(`sample ${b}: times decrease at ${i}`);
      }
    }
  }
  return problems;
}
