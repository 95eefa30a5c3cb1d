/**
 * Ranking metrics for next-item recommendation with one held-out target per user.
 *
 * Every metric is a function of the target's 0-based rank r among the candidates (0 = top).
 * This module is the only place they are defined: the evaluator, the env's reward and the
 * monitor all use it. Names follow RecBole: `HR@k`, `NDCG@k`, `MRR@k`, and `MRR` (no cut-off).
 */

export interface MetricDef {
  /** e.g. `NDCG@10`. */
  name: string;
  /** Value for one user whose target has 0-based rank `rank`. The reported metric is the mean over users. */
  fromRank(rank: number): number;
  /** All metrics here: larger is better. */
  biggerIsBetter: true;
}

/** HR@k = 1[r < k]: the target is in the top k. */
function hitRate(k: number): MetricDef {
  return { name: `HR@${k}`, fromRank: (r) => (r < k ? 1 : 0), biggerIsBetter: true };
}

/** NDCG@k = 1[r < k] / log2(r + 2): with one relevant item the ideal DCG is 1. */
function ndcg(k: number): MetricDef {
  return { name: `NDCG@${k}`, fromRank: (r) => (r < k ? 1 / Math.log2(r + 2) : 0), biggerIsBetter: true };
}

/** MRR@k = 1[r < k] / (r + 1); `MRR` without a cut-off uses every rank. */
function mrr(k?: number): MetricDef {
  return {
    name: k === undefined ? "MRR" : `MRR@${k}`,
    fromRank: (r) => (k === undefined || r < k ? 1 / (r + 1) : 0),
    biggerIsBetter: true,
  };
}

/**
 * `LogLik`: the mean log-probability of the target under the model's softmax over all items,
 * log(e^{s_target} / Σ_{j=1..V} e^{s_j}) (history items included: a likelihood, not a ranking).
 * Not a function of the rank: it moves with every change of the scores, so as a reward it is far
 * less noisy than NDCG@10, whose per-user value jumps between 0 and 1/log2(r+2). Larger is better.
 */
export const LOG_LIK = "LogLik";

/** Is `name` a metric that needs the scores themselves rather than the rank (`LogLik`)? */
export function isScoreMetric(name: string): boolean {
  return name === LOG_LIK;
}

/** Throws unless `name` is a known metric (a rank metric or `LogLik`). */
export function checkMetricName(name: string): void {
  if (!isScoreMetric(name)) getMetric(name);
}

/** The metrics every evaluation reports, in table order. */
export const DEFAULT_METRICS = ["HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR"] as const;

/** Look up a metric by name (`HR@k`, `NDCG@k`, `MRR@k`, `MRR`); unknown names throw and list the known forms. */
export function getMetric(name: string): MetricDef {
  const m = /^(HR|NDCG|MRR)@(\d+)$/.exec(name);
  if (m) {
    const k = Number(m[2]);
    if (k < 1) throw new Error(`metric \`${name}\`: k must be >= 1`);
    return m[1] === "HR" ? hitRate(k) : m[1] === "NDCG" ? ndcg(k) : mrr(k);
  }
  if (name === "MRR") return mrr();
  throw new Error(`unknown metric \`${name}\`; known: HR@k, NDCG@k, MRR@k, MRR (e.g. ${DEFAULT_METRICS.join(", ")})${name === LOG_LIK ? "; LogLik is not a rank metric" : ", and LogLik"}`);
}

/** Mean of each named metric over the given 0-based ranks. */
export function metricsFromRanks(ranks: ArrayLike<number>, names: readonly string[] = DEFAULT_METRICS): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const def = getMetric(name);
    let sum = 0;
    for (let i = 0; i < ranks.length; i++) sum += def.fromRank(ranks[i]!);
    out[name] = ranks.length ? sum / ranks.length : NaN;
  }
  return out;
}

/** How a set of numbers was measured; printed beside every table and stored with every result. */
export interface Protocol {
  dataset: string;
  /** `valid` (second-last item) or `test` (last item) of a leave-one-out split. */
  split: "valid" | "test";
  /** `full`: the target is ranked against every item, the user's history excluded. */
  ranking: "full";
  usersEvaluated: number;
}

export function describeProtocol(p: Protocol): string {
  return `${p.dataset} / leave-one-out ${p.split} / ${p.ranking} ranking over all items, history excluded / ${p.usersEvaluated} users`;
}
