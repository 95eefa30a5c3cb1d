/** Step rows like the env writes, for the recorder and monitor sections. */
import type { Rng } from "../../src/core/rng.ts";
import { makeStepRow, type StepRow } from "../../src/record/index.ts";

/** `n` step rows like the env would write, with `dim`-float observations (seeded). */
export function makeRows(n: number, dim: number, runId: string, rng: Rng): StepRow[] {
  const ops = ["identity", "crop", "mask", "reorder", "substitute", "insert", "item-dropout"];
  const mags = [0.1, 0.2, 0.3, 0.5];
  return Array.from({ length: n }, (_, i) => {
    const op = rng.pick(ops);
    const evalNow = i % 8 === 7;
    return makeStepRow({
      run_id: runId,
      episode: Math.floor(i / 100),
      step: i % 100,
      ops: op === "identity" ? [] : [op],
      magnitudes: op === "identity" ? [] : [rng.pick(mags)],
      reward: evalNow ? rng.normal(0, 0.1) : null,
      train_loss: 1 + rng.random(),
      valid_ndcg10: evalNow ? 0.02 + 0.01 * rng.random() : null,
      valid_hr10: evalNow ? 0.05 + 0.01 * rng.random() : null,
      observation: Array.from({ length: dim }, () => rng.normal()),
      log_prob: -Math.log(28) + 0.1 * rng.normal(),
      value: rng.normal(),
      wall_ms: i * 150,
    });
  });
}
