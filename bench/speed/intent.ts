/**
 * Section 7, `intent`: what the text env costs. One `IntentEnv` episode per shipped intent spec
 * (identity every step: training plus the reward evaluations, then the final metrics with the
 * out-of-scope threshold), and every text op's time per 1,000 real utterances.
 */
import { textOps } from "../../src/augment/text/index.ts";
import { Rng } from "../../src/core/rng.ts";
import { loadIntentCsv } from "../../src/data/intents.ts";
import { createIntentEnv, loadIntentEnvSpec } from "../../src/env/index.ts";
import { markdownTable } from "../report.ts";
import { round } from "../speed-lib.ts";
import type { SectionOutput, SpeedContext } from "./context.ts";

export interface TextOpCost {
  op: string;
  /** Median of 5 timed calls on the whole pool. */
  ms_per_1000: number;
  /** The first call, which loads lexicons and the WordNet sense index. */
  first_call_ms: number;
}

/** Every registered text op on `texts` (1,000 of them for a per-1,000 figure) at `magnitude`. */
export function textOpCosts(texts: readonly string[], magnitude: number): TextOpCost[] {
  const scale = 1000 / texts.length;
  return textOps.map((op) => {
    let t = performance.now();
    op.apply([...texts], magnitude, new Rng(0, "warm"));
    const first = performance.now() - t;
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      t = performance.now();
      op.apply([...texts], magnitude, new Rng(r, "timing"));
      runs.push(performance.now() - t);
    }
    runs.sort((x, y) => x - y);
    return { op: op.name, ms_per_1000: runs[2]! * scale, first_call_ms: first };
  });
}

/** 1,000 real utterances: HINT3's training queries of both shops, then BANKING77's. */
export function utterancePool(root: string): string[] {
  return [
    ...loadIntentCsv(`${root}envs/data/hint3/sofmattress_train.csv`).texts,
    ...loadIntentCsv(`${root}envs/data/hint3/curekart_train.csv`).texts,
    ...loadIntentCsv(`${root}envs/data/banking77/train.csv`).texts,
  ].slice(0, 1000);
}

export async function benchIntent(ctx: SpeedContext, root: string): Promise<SectionOutput> {
  const { opts, log } = ctx;
  await ctx.backend();
  const episodes: { spec: string; train_rows: number; steps: number; episode_s: number; steps_per_s: number }[] = [];
  for (const file of opts.intentEnvs) {
    const spec = loadIntentEnvSpec(file);
    const env = await createIntentEnv(spec);
    const t0 = performance.now();
    env.reset({ seed: opts.seed });
    for (let s = 0; s < env.horizon; s++) await env.step({ ops: [0], magnitudes: [0] });
    env.finalMetrics();
    const seconds = (performance.now() - t0) / 1000;
    episodes.push({ spec: spec.name, train_rows: env.data.train.texts.length, steps: env.horizon, episode_s: round(seconds, 2), steps_per_s: round(env.horizon / seconds, 1) });
    log(`intent: ${spec.name} episode ${seconds.toFixed(1)} s (${env.horizon} steps)`);
    env.dispose();
  }
  const ops = textOpCosts(utterancePool(root), 0.3).map((o) => ({ ...o, ms_per_1000: round(o.ms_per_1000, 1), first_call_ms: round(o.first_call_ms, 1) }));
  const md = [
    "One episode per spec with identity every step (the `none` arm's work: the spec's epochs of training, the reward evaluations, the final metrics and threshold):",
    "",
    markdownTable(episodes.map((e) => ({ spec: e.spec, "train rows": e.train_rows, steps: e.steps, "episode s": e.episode_s, "steps/s": e.steps_per_s }))),
    "",
    "Text ops on 1,000 real utterances (HINT3 train queries, then BANKING77), magnitude 0.3, median of 5 calls; the first call loads lexicons and the WordNet sense index:",
    "",
    markdownTable(ops.map((o) => ({ op: o.op, "ms per 1,000": o.ms_per_1000, "first call ms": o.first_call_ms }))),
  ].join("\n");
  return { json: { episodes, ops }, md };
}
