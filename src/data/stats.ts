/**
 * Dataset statistics, as printed by `rl-train data stats` and recorded in SOURCE.md files.
 *
 * Conventions: median = mean of the two middle values for an even count; p90 = nearest rank
 * (the ceil(0.9·n)-th smallest); density = interactions / (users · numItems).
 */
import type { LoadReport } from "./errors.ts";
import { loadDataset, type DatasetSpec } from "./load.ts";
import type { SeqDataset } from "./types.ts";

/** Summary of a dataset's size and sequence lengths. */
export interface DatasetStats {
  name: string;
  users: number;
  /** `numItems` (the id range). */
  items: number;
  /** Distinct item ids that occur in some sequence (<= items). */
  itemsUsed: number;
  interactions: number;
  /** interactions / (users · items). */
  density: number;
  length: { min: number; median: number; mean: number; p90: number; max: number };
  /** Length histogram in power-of-two bins [lo, hi], empty bins between min and max kept. */
  histogram: { lo: number; hi: number; count: number }[];
  /** Largest number of times one item occurs. */
  maxItemFrequency: number;
  /** Catalogue coverage, when a catalogue is attached. */
  catalogue?: { titled: number; withAttributes: number; numAttributes: number; meanAttributes: number };
}

/** Compute `DatasetStats`; O(interactions). */
export function datasetStats(ds: SeqDataset): DatasetStats {
  const users = ds.sequences.length;
  if (users === 0) throw new RangeError(`datasetStats: dataset "${ds.name}" has no users`);
  const lengths = Int32Array.from(ds.sequences, (s) => s.length).sort();
  let interactions = 0;
  for (const l of lengths) interactions += l;
  const freq = new Int32Array(ds.numItems + 1);
  for (const s of ds.sequences) for (const it of s) freq[it]!++;
  let itemsUsed = 0;
  let maxItemFrequency = 0;
  for (let i = 1; i < freq.length; i++) {
    if (freq[i]! > 0) itemsUsed++;
    if (freq[i]! > maxItemFrequency) maxItemFrequency = freq[i]!;
  }
  const mid = users >> 1;
  const median = users % 2 === 1 ? lengths[mid]! : (lengths[mid - 1]! + lengths[mid]!) / 2;
  const stats: DatasetStats = {
    name: ds.name,
    users,
    items: ds.numItems,
    itemsUsed,
    interactions,
    density: interactions / (users * ds.numItems),
    length: { min: lengths[0]!, median, mean: interactions / users, p90: lengths[Math.ceil(0.9 * users) - 1]!, max: lengths[users - 1]! },
    histogram: powerOfTwoHistogram(lengths),
    maxItemFrequency,
  };
  const cat = ds.catalogue;
  if (cat && (cat.titles || cat.attributes)) {
    let titled = 0;
    let withAttributes = 0;
    let attrTotal = 0;
    for (let i = 1; i <= ds.numItems; i++) {
      if (cat.titles?.[i]) titled++;
      const a = cat.attributes?.[i];
      if (a && a.length > 0) {
        withAttributes++;
        attrTotal += a.length;
      }
    }
    stats.catalogue = { titled, withAttributes, numAttributes: cat.numAttributes ?? 0, meanAttributes: withAttributes ? attrTotal / withAttributes : 0 };
  }
  return stats;
}

/** Bins [1,1], [2,2], [3,4], [5,8], ... covering min..max of sorted lengths. */
function powerOfTwoHistogram(sorted: Int32Array): { lo: number; hi: number; count: number }[] {
  const bins: { lo: number; hi: number; count: number }[] = [];
  const max = sorted[sorted.length - 1]!;
  let lo = 1;
  let hi = 1;
  let k = 0;
  while (lo <= max) {
    let count = 0;
    while (k < sorted.length && sorted[k]! <= hi) {
      count++;
      k++;
    }
    if (count > 0 || bins.length > 0) bins.push({ lo, hi, count });
    lo = hi + 1;
    hi *= 2;
  }
  return bins;
}

/** Human-readable multi-line report with a bar histogram. */
export function formatStats(s: DatasetStats): string {
  const int = (n: number) => n.toLocaleString("en-US");
  const lines = [
    `dataset       ${s.name}`,
    `users         ${int(s.users)}`,
    `items         ${int(s.items)}${s.itemsUsed !== s.items ? ` (${int(s.itemsUsed)} occur)` : ""}`,
    `interactions  ${int(s.interactions)}`,
    `density       ${(s.density * 100).toFixed(4)} %`,
    `max item freq ${int(s.maxItemFrequency)}`,
    `length        min ${s.length.min}  median ${s.length.median}  mean ${s.length.mean.toFixed(4)}  p90 ${s.length.p90}  max ${s.length.max}`,
  ];
  if (s.catalogue) {
    const c = s.catalogue;
    lines.push(`catalogue     ${int(c.titled)} titled, ${int(c.withAttributes)} with attributes (${int(c.numAttributes)} attribute ids, mean ${c.meanAttributes.toFixed(4)} per item)`);
  }
  lines.push("length histogram");
  const top = Math.max(...s.histogram.map((b) => b.count));
  for (const b of s.histogram) {
    const label = (b.lo === b.hi ? `${b.lo}` : `${b.lo}-${b.hi}`).padStart(9);
    const bar = "#".repeat(Math.round((40 * b.count) / top));
    lines.push(`${label} ${String(b.count).padStart(7)} ${bar}`);
  }
  return lines.join("\n");
}


/** Options of `runDataStats` (what `rl-train data stats` passes). */
export interface DataStatsOptions extends DatasetSpec {
  /** Print one JSON object instead of the text report. Default false. */
  json?: boolean;
}

/** Result of `runDataStats`: what was printed, plus the numbers for callers and tests. */
export interface DataStatsResult {
  stats: DatasetStats;
  reports: LoadReport[];
  text: string;
}

/** Load a dataset and print its statistics and any skipped/filtered rows; the body of `rl-train data stats`. */
export async function runDataStats(options: DataStatsOptions, print: (line: string) => void = console.log): Promise<DataStatsResult> {
  const { json, ...spec } = options;
  const ds = loadDataset(spec);
  const stats = datasetStats(ds);
  const text = json ? JSON.stringify({ stats, reports: ds.reports }, null, 2) : [formatStats(stats), ...ds.reports.map(formatReport).filter((l) => l !== "")].join("\n");
  print(text);
  return { stats, reports: ds.reports, text };
}

/** One line per file that lost rows (skipped or filtered); "" if nothing was lost. */
export function formatReport(r: LoadReport): string {
  const parts: string[] = [];
  if (r.skipped > 0) {
    const kinds = Object.entries(r.skippedByKind).map(([k, n]) => `${k} ${n}`).join(", ");
    parts.push(`skipped ${r.skipped} of ${r.rows} rows (${kinds})`);
    for (const e of r.examples) parts.push(`  e.g. ${e}`);
  }
  const f = r.filtered;
  if (f && (f.users || f.items || f.interactions)) parts.push(`filtered out ${f.users} users, ${f.items} items, ${f.interactions} interactions`);
  return parts.length ? `${r.file}: ${parts.join("\n")}` : "";
}
