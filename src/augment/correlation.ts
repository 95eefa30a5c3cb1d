/**
 * Item correlation and popularity tables used by the correlated ops (`substitute`, `insert`,
 * `target-jitter`, `negative-hardness`).
 *
 * CoSeRec (Liu et al. 2021, "Contrastive Self-supervised Sequential Recommendation with Robust
 * Augmentation") picks replacement/insertion items from an item-similarity model. Here the
 * similarity is windowed co-occurrence in the *training* sequences (never validation/test items,
 * which would leak the targets): two items seen d <= window positions apart in one sequence add
 * 1/d, and the sum is divided by sqrt(count_i * count_j) so popular items do not dominate every
 * list (the cosine normalisation of item-based CF). A neighbour table from title embeddings can be
 * passed instead; both are `Int32Array[]` indexed by item id, best neighbour first.
 */
import type { Rng } from "../core/rng.ts";

/** Options of `cooccurrenceNeighbours`. */
export interface CooccurrenceOptions {
  /** Neighbours kept per item. Default 10. */
  topK?: number;
  /** Largest position distance that counts as co-occurring. Default 3. */
  window?: number;
}

/**
 * Top-k co-occurrence neighbours per item: `table[item]` (item 1..numItems; index 0 empty),
 * best first, ties broken by smaller id so the table is deterministic. Items never co-occurring
 * with another have an empty list.
 */
export function cooccurrenceNeighbours(
  train: readonly Int32Array[],
  numItems: number,
  opts: CooccurrenceOptions = {},
): Int32Array[] {
  const topK = opts.topK ?? 10;
  const window = opts.window ?? 3;
  if (!(Number.isInteger(topK) && topK > 0)) throw new RangeError(`\`topK\` must be a positive integer, got ${topK}`);
  if (!(Number.isInteger(window) && window > 0)) throw new RangeError(`\`window\` must be a positive integer, got ${window}`);
  const counts = itemCounts(train, numItems);
  // Pass 1: how many (a, b) co-occurrence entries each item a gets, to lay them out in CSR form.
  const deg = new Int32Array(numItems + 2);
  for (const seq of train) {
    for (let i = 0; i < seq.length; i++) {
      const a = seq[i]!;
      if (a < 1 || a > numItems) throw new RangeError(`cooccurrenceNeighbours: item ${a} out of 1..${numItems} in \`train\``);
      for (let d = 1; d <= window && i + d < seq.length; d++) {
        const b = seq[i + d]!;
        if (b === a || b < 1 || b > numItems) continue;
        deg[a + 1]!++;
        deg[b + 1]!++;
      }
    }
  }
  for (let a = 1; a <= numItems + 1; a++) deg[a]! += deg[a - 1]!;
  const fill = deg.slice();
  const other = new Int32Array(deg[numItems + 1]!);
  const weight = new Float64Array(deg[numItems + 1]!);
  for (const seq of train) {
    for (let i = 0; i < seq.length; i++) {
      const a = seq[i]!;
      for (let d = 1; d <= window && i + d < seq.length; d++) {
        const b = seq[i + d]!;
        if (b === a || b < 1 || b > numItems) continue;
        other[fill[a]!] = b; weight[fill[a]!++] = 1 / d;
        other[fill[b]!] = a; weight[fill[b]!++] = 1 / d;
      }
    }
  }
  // Pass 2: per item, sum the entries into a dense scratch row, score, keep the top k.
  const acc = new Float64Array(numItems + 1);
  const touched = new Int32Array(numItems);
  const bestScore = new Float64Array(topK);
  const bestId = new Int32Array(topK);
  const table: Int32Array[] = new Array(numItems + 1);
  table[0] = new Int32Array(0);
  for (let a = 1; a <= numItems; a++) {
    let nt = 0;
    for (let e = deg[a]!; e < deg[a + 1]!; e++) {
      const b = other[e]!;
      if (acc[b] === 0) touched[nt++] = b;
      acc[b]! += weight[e]!;
    }
    // Insertion into a k-long best list: O(n k) with k ~ 10 beats sorting every candidate.
    let kept = 0;
    for (let k = 0; k < nt; k++) {
      const b = touched[k]!;
      const sc = acc[b]! / Math.sqrt(counts[a]! * counts[b]!);
      acc[b] = 0;
      let j = kept;
      while (j > 0 && (bestScore[j - 1]! < sc || (bestScore[j - 1] === sc && bestId[j - 1]! > b))) j--;
      if (j >= topK) continue;
      const last = Math.min(kept, topK - 1);
      for (let q = last; q > j; q--) { bestScore[q] = bestScore[q - 1]!; bestId[q] = bestId[q - 1]!; }
      bestScore[j] = sc;
      bestId[j] = b;
      if (kept < topK) kept++;
    }
    table[a] = bestId.slice(0, kept);
  }
  return table;
}

/** How often each item occurs in `seqs` (index = item id, length numItems + 1). */
export function itemCounts(seqs: readonly Int32Array[], numItems: number): Float64Array {
  const c = new Float64Array(numItems + 1);
  for (const s of seqs) for (let i = 0; i < s.length; i++) if (s[i]! >= 1 && s[i]! <= numItems) c[s[i]!]!++;
  return c;
}

/**
 * Check a caller-provided neighbour table (e.g. from title embeddings) against `numItems`, so a
 * bad table fails at build time rather than as an out-of-range id deep inside training.
 */
export function checkNeighbourTable(table: readonly Int32Array[], numItems: number): void {
  if (table.length !== numItems + 1) {
    throw new RangeError(`\`neighbours\` must have numItems + 1 = ${numItems + 1} rows (row 0 unused), got ${table.length}`);
  }
  for (let a = 1; a <= numItems; a++) {
    const row = table[a];
    if (!row) throw new RangeError(`\`neighbours[${a}]\` is missing; use an empty Int32Array for items without neighbours`);
    for (const b of row) {
      if (!(b >= 1 && b <= numItems)) throw new RangeError(`\`neighbours[${a}]\` holds item ${b}, outside 1..${numItems}`);
    }
  }
}

/** Draws items in proportion to their popularity (cumulative table + binary search, O(log n) per draw). */
export class PopularitySampler {
  private readonly cum: Float64Array;
  readonly numItems: number;

  /** `counts[item]` (index 0 ignored); add-one smoothing keeps every item drawable. */
  constructor(counts: ArrayLike<number>) {
    this.numItems = counts.length - 1;
    if (this.numItems < 1) throw new RangeError(`PopularitySampler: \`counts\` needs numItems + 1 >= 2 entries, got ${counts.length}`);
    this.cum = new Float64Array(this.numItems);
    let acc = 0;
    for (let i = 1; i <= this.numItems; i++) {
      acc += Math.max(0, counts[i]!) + 1;
      this.cum[i - 1] = acc;
    }
  }

  /** One item in 1..numItems, different from `avoid` when possible. */
  sample(rng: Rng, avoid = 0): number {
    for (let tries = 0; tries < 8; tries++) {
      const r = rng.random() * this.cum[this.cum.length - 1]!;
      let lo = 0;
      let hi = this.cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.cum[mid]! > r) hi = mid;
        else lo = mid + 1;
      }
      if (lo + 1 !== avoid) return lo + 1;
    }
    return avoid === 1 ? Math.min(2, this.numItems) : 1;
  }
}
