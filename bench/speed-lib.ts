/**
 * Pure helpers of `bench/speed.ts` (kept apart so tests can import them without running the
 * benchmark): statistics, padded-length buckets, section selection, machine load snapshots.
 */
import * as os from "node:os";

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median: empty list");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: readonly number[]): number => (xs.length ? sum(xs) / xs.length : NaN);
/** Round to `digits` decimals (for JSON that people read). */
export const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Upper edges of the padded-length buckets: 5, 15, 30, maxLen (edges >= maxLen dropped). */
export function bucketEdges(maxLen: number): number[] {
  return [...[5, 15, 30].filter((e) => e < maxLen), maxLen];
}

/** Label of bucket `i` of `edges`: `L≤5`, `6–15`, ... */
export function bucketLabel(edges: readonly number[], i: number): string {
  const hi = edges[i]!;
  if (i === 0) return `L≤${hi}`;
  const lo = edges[i - 1]! + 1;
  return lo === hi ? `L=${hi}` : `${lo}–${hi}`;
}

/** Index of the bucket that padded length `L` falls in. */
export function bucketOf(edges: readonly number[], L: number): number {
  const i = edges.findIndex((e) => L <= e);
  return i < 0 ? edges.length - 1 : i;
}

/**
 * Padded length SASRec uses for a training batch: the longest input (sequence length - 1),
 * clamped to [1, maxLen], or always maxLen without length bucketing (mirrors SASRec.padLength).
 */
export function paddedLength(seqs: readonly ArrayLike<number>[], maxLen: number, lengthBucketing: boolean): number {
  if (!lengthBucketing) return maxLen;
  let longest = 1;
  for (const s of seqs) longest = Math.max(longest, s.length - 1);
  return Math.max(1, Math.min(maxLen, longest));
}

/** One timed training batch. */
export interface BatchTiming {
  /** Padded length L of the batch. */
  L: number;
  /** Samples in the batch. */
  size: number;
  /** Wall milliseconds of `trainStep`. */
  ms: number;
}

/** One row of the per-bucket breakdown of an epoch. */
export interface BucketRow {
  bucket: string;
  batches: number;
  samples: number;
  mean_L: number;
  ms_per_batch: number;
  /** Seconds per epoch spent in this bucket (averaged over the timed epochs). */
  seconds: number;
  /** Percent of the epoch's trainStep time. */
  share_pct: number;
}

/** Group batch timings by padded-length bucket; `epochs` divides the totals (timings of several epochs). */
export function bucketBreakdown(timings: readonly BatchTiming[], maxLen: number, epochs = 1): BucketRow[] {
  const edges = bucketEdges(maxLen);
  const total = sum(timings.map((t) => t.ms));
  return edges.map((_, i) => {
    const mine = timings.filter((t) => bucketOf(edges, t.L) === i);
    const ms = sum(mine.map((t) => t.ms));
    return {
      bucket: bucketLabel(edges, i),
      batches: mine.length / epochs,
      samples: sum(mine.map((t) => t.size)) / epochs,
      mean_L: mine.length ? round(mean(mine.map((t) => t.L)), 1) : 0,
      ms_per_batch: mine.length ? round(ms / mine.length, 1) : 0,
      seconds: round(ms / 1000 / epochs, 2),
      share_pct: total > 0 ? round((100 * ms) / total, 1) : 0,
    };
  });
}

/** Estimate a whole epoch from its first batches: mean time per measured batch x batches per epoch. */
export function extrapolateEpoch(measuredMs: readonly number[], batchesPerEpoch: number): { seconds: number; extrapolated: boolean } {
  if (measuredMs.length === 0) throw new RangeError("extrapolateEpoch: no measured batches");
  const extrapolated = measuredMs.length < batchesPerEpoch;
  return { seconds: (mean(measuredMs) * batchesPerEpoch) / 1000, extrapolated };
}

/** The benchmark's sections, in run order. Numbers (1-7) are accepted as aliases. */
export const SECTION_IDS = ["train", "eval", "ops", "recorder", "monitor", "rl", "intent"] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/** Parse `--sections a,b,c` (names or 1-based numbers); undefined or "all" selects every section. */
export function parseSections(arg: string | undefined): SectionId[] {
  if (arg === undefined || arg.trim() === "" || arg.trim() === "all") return [...SECTION_IDS];
  const picked = new Set<SectionId>();
  for (const raw of arg.split(",").map((s) => s.trim()).filter(Boolean)) {
    const n = Number(raw);
    const id = Number.isInteger(n) ? SECTION_IDS[n - 1] : SECTION_IDS.find((s) => s === raw);
    if (!id) throw new Error(`\`--sections\`: unknown section "${raw}"; use names ${SECTION_IDS.join(",")} or numbers 1-${SECTION_IDS.length}`);
    picked.add(id);
  }
  return SECTION_IDS.filter((s) => picked.has(s));
}

/** Machine load at one moment: 1/5/15-minute load averages and the core count they compare to. */
export interface LoadSnapshot {
  at: string;
  loadavg: [number, number, number];
  cpus: number;
}

export function loadSnapshot(): LoadSnapshot {
  const [a, b, c] = os.loadavg();
  return { at: new Date().toISOString(), loadavg: [round(a!, 2), round(b!, 2), round(c!, 2)], cpus: os.cpus().length };
}

/** A fixed amount of floating-point work (a stand-in for a training step); returns a value so it is not optimised away. */
export function fakeWork(iterations: number, seed = 1): number {
  let x = seed;
  let y = 0.5;
  for (let i = 0; i < iterations; i++) {
    x = x * 1.0000001 + 1e-7;
    y = y * 0.9999999 + x * 1e-9;
  }
  return x + y;
}

/** Numbers as short strings for a markdown table (markdownTable prints 4 decimals for every non-integer). */
export function mdRows(rows: ReadonlyArray<Record<string, string | number | null | boolean>>): Array<Record<string, string | number>> {
  const short = (v: number): string | number => {
    if (Number.isInteger(v) || !Number.isFinite(v)) return v;
    const abs = Math.abs(v);
    return v.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  };
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "number" ? short(v) : v === null ? "" : String(v)])));
}
