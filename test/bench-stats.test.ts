import { strict as assert } from "node:assert";
import { it } from "node:test";
import { pairedDifference, tCdf, tQuantile } from "../bench/stats.ts";

it("t quantiles match the tables", () => {
  // Two-sided 95% critical values from any t table.
  for (const [df, q] of [[1, 12.706], [2, 4.303], [4, 2.776], [5, 2.571], [11, 2.201], [19, 2.093], [30, 2.042]] as const) {
    assert.ok(Math.abs(tQuantile(0.975, df) - q) < 1e-3, `df ${df}: ${tQuantile(0.975, df)} vs ${q}`);
  }
  assert.ok(Math.abs(tCdf(0, 7) - 0.5) < 1e-12);
  assert.ok(Math.abs(tCdf(-2.365, 7) - 0.025) < 1e-3);
});

it("paired differences use only shared seeds and give the t interval", () => {
  const a = new Map([[1, 0.30], [2, 0.32], [3, 0.31], [4, 0.35], [9, 1]]);
  const b = new Map([[1, 0.29], [2, 0.30], [3, 0.31], [4, 0.32]]);
  const d = pairedDifference(a, b);
  assert.equal(d.n, 4);
  assert.ok(Math.abs(d.mean - 0.015) < 1e-12);
  // differences 0.01, 0.02, 0, 0.03: sd = 0.012910; half-width = 3.182 · sd / 2
  assert.ok(Math.abs(d.sd - 0.0129099) < 1e-6);
  assert.ok(Math.abs(d.ci95![1] - d.mean - 3.1824 * 0.0129099 / 2) < 1e-5);
  assert.equal(d.ahead, 3);
  assert.ok(d.p! > 0.05 && d.p! < 0.2);
});
