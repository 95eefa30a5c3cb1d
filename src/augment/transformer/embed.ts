/**
 * Sentence embeddings and nearest neighbours, e.g. item titles → an item-similarity table the
 * sequence ops can use to substitute similar items.
 */
import { loadPipeline, type ModelLocation } from "./models.ts";

/** Options of `embedTexts`. */
export interface EmbedOptions extends ModelLocation {
  /** Model id under `modelDir` (a feature-extraction model). Default `Xenova/all-MiniLM-L6-v2`. */
  model?: string;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
}

export const DEFAULT_EMBED_MODEL = "Xenova/all-MiniLM-L6-v2";

/**
 * Mean-pooled (over non-padding tokens), L2-normalised embedding of every text.
 * Empty texts are embedded as the empty string (the model sees only [CLS] [SEP]).
 */
export async function embedTexts(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
  const batchSize = options.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`embedTexts: \`batchSize\` must be a positive integer, got ${batchSize}; 32 is the default`);
  }
  const extract = await loadPipeline("embedTexts", "feature-extraction", options.model ?? DEFAULT_EMBED_MODEL, options);
  const out: Float32Array[] = [];
  for (let s = 0; s < texts.length; s += batchSize) {
    const batch = texts.slice(s, s + batchSize);
    const t = await extract(batch, { pooling: "mean", normalize: true });
    const dim: number = t.dims[1];
    const data = t.data as Float32Array;
    for (let i = 0; i < batch.length; i++) out.push(data.slice(i * dim, (i + 1) * dim));
  }
  return out;
}

/** Cosine similarity of two vectors of the same length (0 if either is all zeros). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Result of `nearestNeighbours` when the similarities are wanted too. */
export interface Neighbours {
  /** `index[i]`: the k most similar other rows, most similar first (ties: lower index first). */
  index: Int32Array[];
  /** `similarity[i][j]`: cosine similarity of row i and `index[i][j]`. */
  similarity: Float32Array[];
}

/**
 * The k most cosine-similar *other* rows of every row (exact, brute force O(n²·d); for 12k Beauty
 * titles at d = 384 this is a one-off precompute of about a minute). k is capped at n − 1.
 */
export function nearestNeighbours(vectors: readonly Float32Array[], k: number): Int32Array[] {
  return nearestNeighboursWithScores(vectors, k).index;
}

/** `nearestNeighbours` plus the similarity of every neighbour. */
export function nearestNeighboursWithScores(vectors: readonly Float32Array[], k: number): Neighbours {
  return searchTopK(vectors, vectors, k, (i, j) => i === j);
}

/** Unit-normalised copy of `vectors` in one flat buffer, so inner loops are plain dot products. */
function flatten(who: string, vectors: readonly Float32Array[], dim: number): Float32Array {
  const flat = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new RangeError(`${who}: \`vectors[${i}]\` has length ${v.length}, expected ${dim}`);
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += v[d]! * v[d]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) flat[i * dim + d] = v[d]! * inv;
  });
  return flat;
}

/**
 * For every query, the k most cosine-similar keys (exact), skipping pairs where `skip(q, key)`;
 * most similar first, ties broken by lower key index. k is capped at the number of keys.
 */
export function searchTopK(
  queries: readonly Float32Array[],
  keys: readonly Float32Array[],
  k: number,
  skip: (query: number, key: number) => boolean = () => false,
): Neighbours {
  if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`nearestNeighbours: \`k\` must be a positive integer, got ${k}`);
  const dim = keys.length > 0 ? keys[0]!.length : queries.length > 0 ? queries[0]!.length : 0;
  const q = flatten("nearestNeighbours (queries)", queries, dim);
  const flat = flatten("nearestNeighbours", keys, dim);
  const n = keys.length;
  const kk = Math.min(k, Math.max(queries === keys ? n - 1 : n, 0));
  const index: Int32Array[] = [];
  const similarity: Float32Array[] = [];
  const sims = new Float32Array(n);
  for (let i = 0; i < queries.length; i++) {
    const oi = i * dim;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const oj = j * dim;
      for (let d = 0; d < dim; d++) dot += q[oi + d]! * flat[oj + d]!;
      sims[j] = dot;
    }
    // Insertion into a sorted top-k list; k is small so this beats a full sort of n.
    const topI = new Int32Array(kk).fill(-1);
    const topS = new Float32Array(kk).fill(-Infinity);
    for (let j = 0; j < n; j++) {
      if (skip(i, j)) continue;
      const s = sims[j]!;
      if (kk === 0 || s <= topS[kk - 1]!) continue;
      let p = kk - 1;
      while (p > 0 && s > topS[p - 1]!) {
        topS[p] = topS[p - 1]!;
        topI[p] = topI[p - 1]!;
        p--;
      }
      topS[p] = s;
      topI[p] = j;
    }
    // Skipped pairs can leave fewer than k neighbours; drop the unfilled slots.
    const filled = topI.indexOf(-1) === -1 ? kk : topI.indexOf(-1);
    index.push(topI.slice(0, filled));
    similarity.push(topS.slice(0, filled));
  }
  return { index, similarity };
}
