/** Ranking metrics against values computed by hand from 0-based ranks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_METRICS, describeProtocol, getMetric, metricsFromRanks } from "../src/models/metrics.ts";

// Ranks chosen so that log2(rank + 2) is an integer: 0→1, 2→2, 6→3, 14→4, 30→5.
const ranks = [0, 2, 6, 14, 30];

function close(actual: number | undefined, expected: number, what: string) {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

test("HR@k counts targets ranked strictly inside the top k", () => {
  const m = metricsFromRanks(ranks, ["HR@1", "HR@5", "HR@10", "HR@20", "HR@30", "HR@31"]);
  close(m["HR@1"], 1 / 5, "HR@1");
  close(m["HR@5"], 2 / 5, "HR@5");
  close(m["HR@10"], 3 / 5, "HR@10");
  close(m["HR@20"], 4 / 5, "HR@20");
  close(m["HR@30"], 4 / 5, "HR@30 (rank 30 is the 31st item)");
  close(m["HR@31"], 1, "HR@31");
});

test("NDCG@k is 1/log2(rank+2) inside the top k, 0 outside", () => {
  const m = metricsFromRanks(ranks, ["NDCG@1", "NDCG@5", "NDCG@10", "NDCG@20", "NDCG@50"]);
  close(m["NDCG@1"], 1 / 5, "NDCG@1");
  close(m["NDCG@5"], (1 + 1 / 2) / 5, "NDCG@5");
  close(m["NDCG@10"], (1 + 1 / 2 + 1 / 3) / 5, "NDCG@10");
  close(m["NDCG@20"], (1 + 1 / 2 + 1 / 3 + 1 / 4) / 5, "NDCG@20");
  close(m["NDCG@50"], (1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 5, "NDCG@50");
  // A rank whose log is not an integer: rank 1 → 1/log2(3) = ln 2 / ln 3.
  close(getMetric("NDCG@10").fromRank(1), 0.6309297535714574, "NDCG@10 at rank 1");
});

test("MRR@k and MRR are 1/(rank+1), with and without a cut-off", () => {
  const m = metricsFromRanks(ranks, ["MRR@1", "MRR@5", "MRR@10", "MRR"]);
  close(m["MRR@1"], 1 / 5, "MRR@1");
  close(m["MRR@5"], (1 + 1 / 3) / 5, "MRR@5");
  close(m["MRR@10"], (1 + 1 / 3 + 1 / 7) / 5, "MRR@10");
  close(m["MRR"], (1 + 1 / 3 + 1 / 7 + 1 / 15 + 1 / 31) / 5, "MRR");
  close(getMetric("MRR").fromRank(999), 1 / 1000, "MRR has no cut-off");
});

test("default metrics are reported in table order and accept any array-like of ranks", () => {
  assert.deepEqual([...DEFAULT_METRICS], ["HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR"]);
  const m = metricsFromRanks(Int32Array.from(ranks));
  assert.deepEqual(Object.keys(m), [...DEFAULT_METRICS]);
  close(m["HR@10"], 3 / 5, "HR@10 from Int32Array");
  for (const def of DEFAULT_METRICS.map(getMetric)) assert.equal(def.biggerIsBetter, true);
});

test("no users gives NaN, not a misleading 0", () => {
  assert.ok(Number.isNaN(metricsFromRanks([], ["HR@10"])["HR@10"]));
});

test("an unknown metric name throws and lists the known ones", () => {
  for (const bad of ["Recall@10", "hr@10", "NDCG", "HR@", "NDCG@ten"]) {
    assert.throws(() => getMetric(bad), (e: Error) => {
      assert.ok(e.message.includes(`\`${bad}\``), `message names ${bad}: ${e.message}`);
      for (const known of ["HR@k", "NDCG@k", "MRR@k", "MRR"]) assert.ok(e.message.includes(known), `lists ${known}: ${e.message}`);
      return true;
    });
  }
  assert.throws(() => getMetric("HR@0"), /HR@0.*k must be >= 1/);
  assert.throws(() => metricsFromRanks([0], ["HR@10", "Recall@10"]), /unknown metric `Recall@10`/);
});

test("the protocol line names dataset, split, full ranking and users evaluated", () => {
  const line = describeProtocol({ dataset: "beauty", split: "test", ranking: "full", usersEvaluated: 22363 });
  for (const part of ["beauty", "test", "full ranking", "22363 users"]) assert.ok(line.includes(part), `${part} in ${line}`);
});
