import assert from "node:assert/strict";
import { test } from "node:test";
import { getIntentMetric, intentMetrics, predictWithThreshold, topProbabilities } from "../src/models/intent-metrics.ts";

// 6 rows: intents 0, 1 and two out-of-scope rows (-1).
const truth = [0, 0, 1, 1, -1, -1];
const pred = [0, 1, 1, -1, -1, 0];

test("HINT3 metrics on a hand-computed example", () => {
  const m = intentMetrics({ truth, pred }, ["accuracy", "inscope_accuracy", "oos_recall", "macro_f1"]);
  assert.equal(m.accuracy, 3 / 6); // rows 0, 2, 4
  assert.equal(m.inscope_accuracy, 2 / 4); // rows 0, 2; the rejected row 3 counts as wrong
  assert.equal(m.oos_recall, 1 / 2); // row 4 rejected, row 5 accepted as intent 0
  // class 0: TP 1, FP 1 (row 5), FN 1 (row 1) → F1 = 2/4; class 1: TP 1, FP 1 (row 1), FN 1 (row 3) → 2/4;
  // class −1: TP 1, FP 1 (row 3), FN 1 (row 5) → 2/4. Mean 0.5.
  assert.equal(m.macro_f1, 0.5);
});

test("macro-F1 averages over classes in truth or predictions, F1 = 0 without a true positive", () => {
  // class 0: TP 2, F1 = 1·... ; class 1: TP 0 (predicted once, never true) → 0; class 2: FN only → 0.
  const m = intentMetrics({ truth: [0, 0, 2], pred: [0, 0, 1] }, ["macro_f1", "accuracy"]);
  assert.equal(m.macro_f1, (1 + 0 + 0) / 3);
  assert.equal(m.accuracy, 2 / 3);
});

test("metrics without their rows are NaN, not 0 or 1; cross-entropy skips out-of-scope rows", () => {
  const m = intentMetrics({ truth: [0, 1], pred: [0, 1], trueProb: [0.5, 0.25] }, ["oos_recall", "cross_entropy", "accuracy"]);
  assert.ok(Number.isNaN(m.oos_recall));
  assert.equal(m.accuracy, 1);
  assert.ok(Math.abs(m.cross_entropy! - (Math.log(2) + Math.log(4)) / 2) < 1e-12);
  const withOos = intentMetrics({ truth: [0, -1], pred: [0, -1], trueProb: [0.5, Number.NaN] }, ["cross_entropy"]);
  assert.ok(Math.abs(withOos.cross_entropy! - Math.log(2)) < 1e-12);
  assert.equal(getIntentMetric("cross_entropy").biggerIsBetter, false);
});

test("an unknown metric name throws and lists the known ones", () => {
  assert.throws(() => getIntentMetric("f1"), /unknown intent metric `f1`; known: accuracy, inscope_accuracy, oos_recall, macro_f1, cross_entropy/);
});

test("thresholded predictions reject low-confidence rows; NaN probabilities are rejected", () => {
  const probs = Float32Array.from([0.7, 0.2, 0.1, 0.4, 0.35, 0.25, Number.NaN, Number.NaN, Number.NaN]);
  assert.deepEqual([...predictWithThreshold(probs, 3, 0)], [0, 0, -1]);
  assert.deepEqual([...predictWithThreshold(probs, 3, 0.5)], [0, -1, -1]);
  assert.deepEqual([...topProbabilities(probs, 3)].slice(0, 2).map((x) => Math.round(x * 100)), [70, 40]);
});
