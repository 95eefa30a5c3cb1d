/**
 * Section 3, `ops`: per-op time on a 256-user Beauty batch (bench/ops.ts), target <= 2 ms for
 * sequence and label ops; compared with a training step when the train section ran first.
 */
import { markdownTable } from "../report.ts";
import { benchOps } from "../ops.ts";
import { mdRows, round } from "../speed-lib.ts";
import type { SectionOutput, SpeedContext } from "./context.ts";

export async function benchAugOps(ctx: SpeedContext): Promise<SectionOutput> {
  let ctxMs = 0;
  const rows = await benchOps({ onContext: (ms) => (ctxMs = ms) });
  const table = rows.map((r) => {
    const hasTarget = r.family === "sequence" || r.family === "label";
    return {
      op: r.op,
      family: r.family,
      ms: round(r.ms, 3),
      target: hasTarget ? (r.ms <= 2 ? "pass" : "MISS") : "n/a",
      ...(ctx.trainMsPerBatch ? { "% of train step": round((100 * r.ms) / ctx.trainMsPerBatch, 3) } : {}),
    };
  });
  const misses = table.filter((r) => r.target === "MISS").map((r) => r.op);
  const json = {
    batch: "first seeded 256-user Beauty batch, max len 50 (bench/ops.ts beautyBatch)",
    magnitude: 0.5,
    timing: "median of 101 runs after 200 warm-up runs per op",
    target: "<= 2 ms per sequence/label op",
    op_context_ms: round(ctxMs, 1),
    train_ms_per_batch: ctx.trainMsPerBatch ? round(ctx.trainMsPerBatch, 1) : null,
    misses,
    rows: table,
  };
  const md = [
    `Op context build (co-occurrence, popularity, title vocabulary): ${ctxMs.toFixed(0)} ms once. Target ≤ 2 ms per sequence/label op: ${misses.length ? `MISSED by ${misses.join(", ")}` : "all pass"}.`,
    "",
    markdownTable(mdRows(table)),
  ].join("\n");
  return { json, md };
}
