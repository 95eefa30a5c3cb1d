/**
 * Time per batch op on one 256-user Beauty training batch (max length 50, as SASRec trains),
 * median over repeats at magnitude 0.5 after a JIT warm-up. Target: <= 2 ms per sequence/label op.
 *
 *   node --import tsx bench/ops.ts            prints a table
 *
 * Beauty.txt has no timestamps, so the batch gets synthetic ones (one day apart) purely so
 * `time-jitter` does its real work here.
 */
import { fileURLToPath } from "node:url";
import { Rng } from "../src/core/rng.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { loadDataset } from "../src/data/load.ts";
import { leaveOneOut } from "../src/data/split.ts";
import { trainBatches } from "../src/data/batches.ts";
import { buildOpContext, type OpContext } from "../src/augment/opcontext.ts";
import { withContext } from "../src/augment/context.ts";
import { createBatchOps } from "../src/augment/registry.ts";

/** One row of the benchmark. */
export interface OpTiming {
  op: string;
  family: string;
  /** Median milliseconds to apply the op once to the batch. */
  ms: number;
}

/** Options of `benchOps`; defaults in brackets. */
export interface BenchOpsOptions {
  /** Timed repeats per op (after `warmup`). [101] */
  repeats?: number;
  /**
   * Untimed runs first, so the JIT has optimised the op: training applies each op thousands of
   * times, so the steady state is what matters (5 warm-up runs read up to 2x slower). [200]
   */
  warmup?: number;
  /** Magnitude used. [0.5] */
  magnitude?: number;
  /** Reports the op-context build time (co-occurrence table etc.). */
  onContext?: (ms: number, ctx: OpContext) => void;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

/** The first seeded 256-user batch of Beauty, with attributes, title tokens and synthetic times. */
export function beautyBatch(): { batch: TrainBatch; ctx: OpContext; ctxMs: number } {
  const dataset = loadDataset({ path: fileURLToPath(new URL("../envs/data/beauty", import.meta.url)) });
  const split = leaveOneOut(dataset);
  const t0 = performance.now();
  const ctx = buildOpContext({ numItems: dataset.numItems, train: split.train, catalogue: dataset.catalogue });
  const ctxMs = performance.now() - t0;
  const [first] = trainBatches(split, { batchSize: 256, maxLen: 50, rng: new Rng(42).child("data") });
  const batch = withContext(first!, ctx);
  batch.times = batch.seqs.map((s) => Float64Array.from(s, (_, i) => 1.4e9 + 86400 * i));
  return { batch, ctx, ctxMs };
}

/** Median time per op on a 256-user Beauty batch. */
export async function benchOps(opts: BenchOpsOptions = {}): Promise<OpTiming[]> {
  const repeats = opts.repeats ?? 101;
  const warmup = opts.warmup ?? 200;
  const m = opts.magnitude ?? 0.5;
  const { batch, ctx, ctxMs } = beautyBatch();
  opts.onContext?.(ctxMs, ctx);
  const rng = new Rng(1).child("bench");
  const rows: OpTiming[] = [];
  for (const op of createBatchOps(ctx).values()) {
    for (let i = 0; i < warmup; i++) op.apply(batch, m, rng);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      op.apply(batch, m, rng);
      times.push(performance.now() - t);
    }
    rows.push({ op: op.name, family: op.family, ms: median(times) });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await benchOps({
    onContext: (ms, ctx) => console.log(`op context (co-occurrence top-10, popularity, title vocab of ${ctx.titleVocab?.size ?? 0} words): ${ms.toFixed(0)} ms`),
  });
  console.log("256-user Beauty batch, max len 50, magnitude 0.5, median of 101 runs after 200 warm-up runs");
  console.log(`${"op".padEnd(20)} ${"family".padEnd(9)} ${"ms".padStart(7)}  target`);
  for (const r of rows) {
    const target = r.family === "context" ? "" : r.ms <= 2 ? "<= 2 ms ok" : "> 2 ms SLOW";
    console.log(`${r.op.padEnd(20)} ${r.family.padEnd(9)} ${r.ms.toFixed(3).padStart(7)}  ${target}`);
  }
}
