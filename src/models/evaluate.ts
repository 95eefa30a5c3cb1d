/**
 * Full-ranking evaluation for leave-one-out splits (the protocol of SASRec/S3-Rec tables).
 *
 * For each user the model scores every item as the next one after the user's history; the
 * target's rank counts the items scored strictly higher, leaving out the history items
 * (they cannot be recommended again) and the padding/mask rows. `valid` reads the training
 * history and targets the second-last item; `test` appends the validation item to the history
 * and targets the last one.
 */
import type { LeaveOneOutSplit } from "../data/types.ts";
import { heapCounter } from "../tf/count-below.ts";
import { DEFAULT_METRICS, isScoreMetric, LOG_LIK, metricsFromRanks, type Protocol } from "./metrics.ts";

/** What the evaluator needs from a model: next-item scores for a set of histories. */
export interface NextItemScorer {
  /** Row-major [n, numItems + 2] scores; column 0 (padding) and numItems+1 (mask) are ignored. */
  scoreNext(histories: Int32Array[]): Float32Array;
  /**
   * Optional: call `use` with the same scores as `scoreNext`, possibly a view of backend memory
   * that is valid only during the call (saves copying n × items floats per chunk).
   */
  withScores?<T>(histories: Int32Array[], use: (scores: Float32Array) => T): T;
}

export interface EvalOptions {
  /** Users to evaluate (indices into the split); default all. */
  users?: Int32Array;
  /**
   * Users per scoring call; bounds memory (chunk × items floats). Default: a sixteenth of the
   * users, between 64 and 512, so even a 2,000-user reward subset splits into chunks that
   * several threads can share (16 chunks of 125 measured ~25 % faster than 8 of 250 on 2
   * threads). It depends on the users only, never on the thread count.
   */
  chunkSize?: number;
  /** Metric names; default HR@5/10/20, NDCG@5/10/20, MRR. */
  metrics?: readonly string[];
  /**
   * Share the chunks with scoring threads (`createEvalPool` in eval-pool.ts). Default (or
   * `null`): every chunk on this thread. The ranks are the same either way.
   */
  runner?: ChunkRunner | null;
}

/**
 * Something that ranks a list of chunks, possibly on other threads. It must return exactly
 * what `rankChunk` returns for each chunk, so results never depend on the number of threads.
 */
export interface ChunkRunner {
  rankChunks(model: NextItemScorer, split: LeaveOneOutSplit, which: "valid" | "test", chunks: Int32Array[]): Int32Array[];
}

export interface EvalResult {
  metrics: Record<string, number>;
  protocol: Protocol;
  /** 0-based rank per evaluated user. */
  ranks: Int32Array;
  seconds: number;
}

export function evaluate(model: NextItemScorer, split: LeaveOneOutSplit, which: "valid" | "test", opts: EvalOptions = {}): EvalResult {
  const t0 = performance.now();
  const users = opts.users ?? Int32Array.from(split.train.keys());
  const chunk = opts.chunkSize ?? Math.min(512, Math.max(64, Math.ceil(users.length / 16)));
  // Score users in order of history length so each chunk is padded only to its own longest
  // history (a random chunk of 1024 almost always contains a 50-item one). Ranks are stored
  // back in the caller's order.
  const order = Int32Array.from(users.keys()).sort((a, b) => split.train[users[a]!]!.length - split.train[users[b]!]!.length);
  const chunks: Int32Array[] = [];
  for (let start = 0; start < order.length; start += chunk) {
    chunks.push(Int32Array.from(order.subarray(start, Math.min(start + chunk, order.length)), (p) => users[p]!));
  }
  const runner = opts.runner;
  const names = opts.metrics ?? DEFAULT_METRICS;
  // LogLik needs every score row, not only the rank: those evaluations stay on this thread
  // (they are the reward subsets, a few thousand users).
  const wantsLogLik = names.some(isScoreMetric);
  const logLiks = wantsLogLik ? chunks.map((ids) => new Float64Array(ids.length)) : undefined;
  const chunkRanks = wantsLogLik
    ? chunks.map((ids, i) => rankChunk(model, split, which, ids, logLiks![i]))
    : runner && chunks.length > 1
      ? runner.rankChunks(model, split, which, chunks)
      : chunks.map((ids) => rankChunk(model, split, which, ids));
  const ranks = new Int32Array(users.length);
  let k = 0;
  for (const r of chunkRanks) for (let b = 0; b < r.length; b++) ranks[order[k++]!] = r[b]!;
  const metrics = metricsFromRanks(ranks, names.filter((n) => !isScoreMetric(n)));
  if (logLiks) {
    let sum = 0;
    for (const l of logLiks) for (const v of l) sum += v;
    metrics[LOG_LIK] = users.length ? sum / users.length : NaN;
  }
  return {
    metrics,
    protocol: { dataset: split.dataset.name, split: which, ranking: "full", usersEvaluated: users.length },
    ranks,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The split fields ranking reads (scoring threads receive only these). */
export type RankingSplit = Pick<LeaveOneOutSplit, "train" | "validTarget" | "testTarget"> & { dataset: { numItems: number } };

/**
 * 0-based full-ranking rank of each user's target, scoring the users `ids` in one call; with
 * `logLik`, also each target's log-probability under the softmax over all items (`LogLik`).
 */
export function rankChunk(model: NextItemScorer, split: RankingSplit, which: "valid" | "test", ids: Int32Array, logLik?: Float64Array): Int32Array {
  const histories = Array.from(ids, (u) => fullHistory(split, u, which));
  return model.withScores ? model.withScores(histories, (scores) => rankRows(split, which, ids, histories, scores, logLik)) : rankRows(split, which, ids, histories, model.scoreNext(histories), logLik);
}

/** log Σ_{j=1..V} e^{row[j]} with the usual max shift (row[0] is padding, row[V+1] the mask token). */
function logSumExpItems(scores: Float32Array, row: number, V: number): number {
  let max = -Infinity;
  for (let j = 1; j <= V; j++) if (scores[row + j]! > max) max = scores[row + j]!;
  if (!Number.isFinite(max)) return NaN;
  let sum = 0;
  for (let j = 1; j <= V; j++) sum += Math.exp(scores[row + j]! - max);
  return max + Math.log(sum);
}

function rankRows(split: RankingSplit, which: "valid" | "test", ids: Int32Array, histories: Int32Array[], scores: Float32Array, logLik?: Float64Array): Int32Array {
  const V = split.dataset.numItems;
  const width = V + 2;
  const out = new Int32Array(ids.length);
  // On wasm the counting runs as a SIMD kernel on the heap itself (same counts, ~10x faster).
  const count = heapCounter(scores);
  for (let b = 0; b < ids.length; b++) {
    const u = ids[b]!;
    const target = which === "valid" ? split.validTarget[u]! : split.testTarget[u]!;
    const row = b * width;
    const st = scores[row + target]!;
    // Ties and NaN count against the target (`!(s < st)`): otherwise a collapsed model (all
    // scores equal) or a diverged one (NaN) would rank every target first and score perfectly.
    // Counting the items strictly below is a branch-free loop (3x faster than testing each
    // item against the target); the target itself is never below itself, hence the -1.
    let below = 0;
    if (count) below = count(row + 1, V, st);
    else {
      const items = scores.subarray(row + 1, row + 1 + V);
      for (let j = 0; j < V; j++) below += (items[j]! < st) as unknown as number;
    }
    let rank = V - below - 1;
    // History items are excluded from the ranking; only those that outscored the target moved it.
    const hist = histories[b]!;
    const seen = new Set<number>();
    for (const item of hist) {
      if (item !== target && !seen.has(item) && !(scores[row + item]! < st)) rank--;
      seen.add(item);
    }
    out[b] = rank;
    if (logLik) logLik[b] = st - logSumExpItems(scores, row, V);
  }
  return out;
}

/** All items the user interacted with before the target (excluded from ranking). */
function fullHistory(split: RankingSplit, u: number, which: "valid" | "test"): Int32Array {
  const train = split.train[u]!;
  if (which === "valid") return train;
  const out = new Int32Array(train.length + 1);
  out.set(train);
  out[train.length] = split.validTarget[u]!;
  return out;
}
