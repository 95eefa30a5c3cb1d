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
import { DEFAULT_METRICS, metricsFromRanks, type Protocol } from "./metrics.ts";

/** What the evaluator needs from a model: next-item scores for a set of histories. */
export interface NextItemScorer {
  /** Row-major [n, numItems + 2] scores; column 0 (padding) and numItems+1 (mask) are ignored. */
  scoreNext(histories: Int32Array[]): Float32Array;
}

export interface EvalOptions {
  /** Users to evaluate (indices into the split); default all. */
  users?: Int32Array;
  /** Users per scoring call; bounds memory (chunk × items floats). Default 1024. */
  chunkSize?: number;
  /** Metric names; default HR@5/10/20, NDCG@5/10/20, MRR. */
  metrics?: readonly string[];
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
  const V = split.dataset.numItems;
  const width = V + 2;
  const users = opts.users ?? Int32Array.from(split.train.keys());
  const chunk = opts.chunkSize ?? 1024;
  // Score users in order of history length so each chunk is padded only to its own longest
  // history (a random chunk of 1024 almost always contains a 50-item one). Ranks are stored
  // back in the caller's order.
  const order = Int32Array.from(users.keys()).sort((a, b) => split.train[users[a]!]!.length - split.train[users[b]!]!.length);
  const ranks = new Int32Array(users.length);
  for (let start = 0; start < order.length; start += chunk) {
    const pos = order.subarray(start, Math.min(start + chunk, order.length));
    const ids = Int32Array.from(pos, (p) => users[p]!);
    const histories = Array.from(ids, (u) => historyOf(split, u, which));
    const scores = model.scoreNext(histories);
    for (let b = 0; b < ids.length; b++) {
      const u = ids[b]!;
      const target = which === "valid" ? split.validTarget[u]! : split.testTarget[u]!;
      const row = b * width;
      const st = scores[row + target]!;
      // Ties and NaN count against the target (`!(s < st)`): otherwise a collapsed model (all
      // scores equal) or a diverged one (NaN) would rank every target first and score perfectly.
      // Counting the items strictly below is a branch-free loop (3x faster than testing each
      // item against the target); the target itself is never below itself, hence the -1.
      const items = scores.subarray(row + 1, row + 1 + V);
      let below = 0;
      for (let j = 0; j < V; j++) below += (items[j]! < st) as unknown as number;
      let rank = V - below - 1;
      // History items are excluded from the ranking; only those that outscored the target moved it.
      const hist = fullHistory(split, u, which);
      const seen = new Set<number>();
      for (const item of hist) {
        if (item !== target && !seen.has(item) && !(scores[row + item]! < st)) rank--;
        seen.add(item);
      }
      ranks[pos[b]!] = rank;
    }
  }
  return {
    metrics: metricsFromRanks(ranks, opts.metrics ?? DEFAULT_METRICS),
    protocol: { dataset: split.dataset.name, split: which, ranking: "full", usersEvaluated: users.length },
    ranks,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** All items the user interacted with before the target (excluded from ranking). */
function fullHistory(split: LeaveOneOutSplit, u: number, which: "valid" | "test"): Int32Array {
  const train = split.train[u]!;
  if (which === "valid") return train;
  const out = new Int32Array(train.length + 1);
  out.set(train);
  out[train.length] = split.validTarget[u]!;
  return out;
}

/** The model's input history (the model itself keeps only its last maxLen items). */
function historyOf(split: LeaveOneOutSplit, u: number, which: "valid" | "test"): Int32Array {
  return fullHistory(split, u, which);
}
