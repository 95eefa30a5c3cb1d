/**
 * Section 2, `eval`: full-ranking evaluation of every user on the validation target, median of
 * repeats, on one thread and on the machine's cores (up to 4); ranks must be identical.
 */
import * as os from "node:os";
import { Rng } from "../../src/core/rng.ts";
import { EvalPool } from "../../src/models/eval-pool.ts";
import { evaluate } from "../../src/models/evaluate.ts";
import { SASRec } from "../../src/models/sasrec.ts";
import { median, round } from "../speed-lib.ts";
import type { SectionOutput, SpeedContext } from "./context.ts";

export async function benchEval(ctx: SpeedContext): Promise<SectionOutput> {
  const { opts, log } = ctx;
  const b = await ctx.backend();
  const { spec, split } = ctx.data();
  const model = new SASRec(spec.model, split.dataset.numItems, new Rng(opts.seed).child("model"));
  // Warm-up on the 2048 longest histories (the widest chunks), untimed.
  const longest = Int32Array.from(split.train.keys()).sort((x, y) => split.train[y]!.length - split.train[x]!.length).subarray(0, 2048);
  const pools: Array<{ threads: number; runner: EvalPool | null }> = [{ threads: 1, runner: null }];
  const cores = Math.min(4, os.availableParallelism());
  if (cores > 1 && (b.name === "wasm" || b.name === "cpu")) pools.push({ threads: cores, runner: new EvalPool({ threads: cores, backend: b.name }) });
  const perThreads: Array<{ threads: number; seconds_median: number; seconds_runs: number[]; users_per_second: number }> = [];
  let users = 0;
  let ndcg = NaN;
  let reference: Int32Array | undefined;
  let identical = true;
  for (const { threads, runner } of pools) {
    evaluate(model, split, "valid", { users: longest, runner });
    const runs: number[] = [];
    for (let r = 0; r < opts.evalRepeats; r++) {
      const t = performance.now();
      const res = evaluate(model, split, "valid", { runner });
      runs.push((performance.now() - t) / 1000);
      users = res.protocol.usersEvaluated;
      ndcg = res.metrics["NDCG@10"]!;
      if (!reference) reference = res.ranks;
      else identical &&= res.ranks.every((x, i) => x === reference![i]);
      log(`eval (${threads} thread${threads > 1 ? "s" : ""}): run ${r + 1}/${opts.evalRepeats} ${runs[r]!.toFixed(2)} s (${users} users)`);
    }
    await runner?.close();
    const sec = median(runs);
    perThreads.push({ threads, seconds_median: round(sec, 2), seconds_runs: runs.map((x) => round(x, 2)), users_per_second: Math.round(users / sec) });
  }
  model.dispose();
  const best = perThreads.at(-1)!;
  const json = {
    call: 'evaluate(model, split, "valid")',
    ranking: "full (every item scored, history items excluded)",
    users_evaluated: users,
    items: split.dataset.numItems,
    repeats: opts.evalRepeats,
    // Headline: the default (`--eval-threads auto`, the machine's cores).
    threads: best.threads,
    seconds_median: best.seconds_median,
    seconds_runs: best.seconds_runs,
    users_per_second: best.users_per_second,
    by_threads: perThreads,
    ranks_identical_across_threads: identical,
    model: "freshly initialised (scoring cost does not depend on the weights)",
    valid_ndcg10_untrained: round(ndcg, 5),
  };
  const md = perThreads.map((p) =>
    `Full-ranking validation of ${users} users on ${p.threads} thread${p.threads > 1 ? "s" : ""}: **${p.seconds_median.toFixed(2)} s** (median of ${opts.evalRepeats}: ${p.seconds_runs.map((x) => x.toFixed(2)).join(", ")} s), ${p.users_per_second} users/s.`,
  ).join("\n") + (perThreads.length > 1 ? `\nRanks identical across thread counts: ${identical}.` : "");
  return { json, md };
}
