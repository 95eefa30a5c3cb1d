import { strict as assert } from "node:assert";
import { it } from "node:test";
import { fSurvival, pairedDifference, tCdf, tQuantile, twoWayArmEffect } from "../bench/stats.ts";

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

it("F tail probabilities match the tables", () => {
  // F(0.95; 6, 24) = 2.508, F(0.99; 2, 10) = 7.559, F(0.95; 1, 1) = 161.45
  assert.ok(Math.abs(fSurvival(2.508, 6, 24) - 0.05) < 5e-4);
  assert.ok(Math.abs(fSurvival(7.559, 2, 10) - 0.01) < 1e-4);
  assert.ok(Math.abs(fSurvival(161.45, 1, 1) - 0.05) < 5e-4);
  assert.equal(fSurvival(0, 3, 4), 1);
});

it("the two-way arm effect separates an arm shift from seed blocks", () => {
  // Seeds shift every arm alike (blocks); arm 2 is +1 everywhere, plus a little interaction.
  const seedShift = [0, 10, -5, 3];
  const noise = [[0.1, -0.1, 0.05, -0.05], [-0.1, 0.1, -0.05, 0.05], [0.05, 0.0, -0.1, 0.05]];
  const table = [0, 0, 1].map((armShift, i) => seedShift.map((s, j) => s + armShift + noise[i]![j]!));
  const r = twoWayArmEffect(table);
  assert.deepEqual(r.df, [2, 6]);
  assert.ok(r.f > 50 && r.p < 1e-4, `arm effect found: F ${r.f}, p ${r.p}`);
  // Without the shift, only the interaction noise is left: no arm effect.
  const flat = twoWayArmEffect([0, 0, 0].map((_, i) => seedShift.map((s, j) => s + noise[i]![j]!)));
  assert.ok(flat.p > 0.2, `no arm effect: p ${flat.p}`);
  assert.throws(() => twoWayArmEffect([[1, 2], [3]]), /complete/);
});
