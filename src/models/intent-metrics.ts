/**
 * Intent-classification metrics, as the HINT3 paper reports them (Arora et al., 2020) plus
 * macro-F1 and cross-entropy. The only place they are defined: the env's reward, its final
 * metrics and the benchmarks all use this module.
 *
 * Conventions: `truth[i]` is the row's intent index, or -1 for an out-of-scope row (HINT3's
 * `NO_NODES_DETECTED`); `pred[i]` is the predicted index, or -1 when the classifier rejects the
 * query (top probability below the out-of-scope threshold). A metric whose rows do not exist
 * (out-of-scope recall on a set without out-of-scope rows) is NaN, not 0 or 1.
 */

export interface IntentMetricInput {
  truth: ArrayLike<number>;
  pred: ArrayLike<number>;
  /** Probability the model gave each row's true intent; needed by `cross_entropy` (in-scope rows only). */
  trueProb?: ArrayLike<number>;
}

export interface IntentMetricDef {
  name: string;
  /** `false` for losses (cross-entropy): a reward from it is the negated change. */
  biggerIsBetter: boolean;
  compute(input: IntentMetricInput): number;
}

/** accuracy = (1/N) Σ_i 1[pred_i = truth_i] over all rows, out-of-scope ones included (HINT3's "accuracy"). */
const accuracy: IntentMetricDef = {
  name: "accuracy",
  biggerIsBetter: true,
  compute({ truth, pred }) {
    let hit = 0;
    for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) hit++;
    return truth.length ? hit / truth.length : NaN;
  },
};

/**
 * inscope_accuracy = Σ_{i: truth_i ≥ 0} 1[pred_i = truth_i] / |{i: truth_i ≥ 0}|; rejecting an
 * in-scope query counts as wrong (HINT3's "in-scope accuracy").
 */
const inscopeAccuracy: IntentMetricDef = {
  name: "inscope_accuracy",
  biggerIsBetter: true,
  compute({ truth, pred }) {
    let n = 0;
    let hit = 0;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i]! < 0) continue;
      n++;
      if (pred[i] === truth[i]) hit++;
    }
    return n ? hit / n : NaN;
  },
};

/** oos_recall = Σ_{i: truth_i = −1} 1[pred_i = −1] / |{i: truth_i = −1}|: out-of-scope queries rejected. */
const oosRecall: IntentMetricDef = {
  name: "oos_recall",
  biggerIsBetter: true,
  compute({ truth, pred }) {
    let n = 0;
    let hit = 0;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i]! >= 0) continue;
      n++;
      if (pred[i]! < 0) hit++;
    }
    return n ? hit / n : NaN;
  },
};

/**
 * macro_f1 = (1/|C|) Σ_{c∈C} 2·P_c·R_c / (P_c + R_c), with P_c = TP_c/(TP_c+FP_c), R_c =
 * TP_c/(TP_c+FN_c) and F1_c = 0 when TP_c = 0; C = every class occurring in `truth` or `pred`,
 * out-of-scope (−1) included (scikit-learn's `f1_score(average="macro")`).
 */
const macroF1: IntentMetricDef = {
  name: "macro_f1",
  biggerIsBetter: true,
  compute({ truth, pred }) {
    const tp = new Map<number, number>();
    const fp = new Map<number, number>();
    const fn = new Map<number, number>();
    const add = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
    const classes = new Set<number>();
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i]!;
      const p = pred[i]!;
      classes.add(t);
      classes.add(p);
      if (t === p) add(tp, t);
      else {
        add(fp, p);
        add(fn, t);
      }
    }
    if (classes.size === 0) return NaN;
    let sum = 0;
    for (const c of classes) {
      const t = tp.get(c) ?? 0;
      if (t > 0) sum += (2 * t) / (2 * t + (fp.get(c) ?? 0) + (fn.get(c) ?? 0));
    }
    return sum / classes.size;
  },
};

/**
 * cross_entropy = −(1/N_in) Σ_{i: truth_i ≥ 0} ln max(p_i, 1e-12), p_i the softmax probability of
 * the true intent; out-of-scope rows have no true intent and are left out. Smaller is better.
 */
const crossEntropy: IntentMetricDef = {
  name: "cross_entropy",
  biggerIsBetter: false,
  compute({ truth, trueProb }) {
    if (!trueProb) throw new Error("metric `cross_entropy` needs `trueProb` (the probability of each row's true intent)");
    let n = 0;
    let sum = 0;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i]! < 0) continue;
      n++;
      sum -= Math.log(Math.max(trueProb[i]!, 1e-12));
    }
    return n ? sum / n : NaN;
  },
};

const METRICS: readonly IntentMetricDef[] = [accuracy, inscopeAccuracy, oosRecall, macroF1, crossEntropy];

/** Names of the intent metrics, in report order (the headline first). */
export const INTENT_METRICS = ["accuracy", "inscope_accuracy", "oos_recall", "macro_f1", "cross_entropy"] as const;
export type IntentMetricName = (typeof INTENT_METRICS)[number];

/** The metric called `name`; unknown names throw and list the known ones. */
export function getIntentMetric(name: string): IntentMetricDef {
  const def = METRICS.find((m) => m.name === name);
  if (!def) throw new Error(`unknown intent metric \`${name}\`; known: ${INTENT_METRICS.join(", ")}`);
  return def;
}

/** Each named metric of one prediction set. */
export function intentMetrics(input: IntentMetricInput, names: readonly string[] = INTENT_METRICS): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) out[name] = getIntentMetric(name).compute(input);
  return out;
}

/** Predictions from per-row probabilities [N, C]: argmax, or −1 when the top probability is below `threshold`. */
export function predictWithThreshold(probs: Float32Array, numClasses: number, threshold = 0): Int32Array {
  const n = probs.length / numClasses;
  const pred = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let top = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const p = probs[i * numClasses + c]!;
      // NaN never wins, so a diverged model predicts class 0 with confidence -Infinity → rejected.
      if (p > top) {
        top = p;
        best = c;
      }
    }
    pred[i] = top >= threshold ? best : -1;
  }
  return pred;
}

/** Top probability of each row [N, C] (the confidence the out-of-scope rule thresholds). */
export function topProbabilities(probs: Float32Array, numClasses: number): Float32Array {
  const n = probs.length / numClasses;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let top = -Infinity;
    for (let c = 0; c < numClasses; c++) top = Math.max(top, probs[i * numClasses + c]!);
    out[i] = top;
  }
  return out;
}
