/** Section 6, `rl`: the RL overhead, an episode's time over plain training of the same budget. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { bucketedTrainBatches } from "../../src/data/bucketing.ts";
import { loadEnvSpec, loadSpecData } from "../../src/env/spec.ts";
import { SASRec } from "../../src/models/sasrec.ts";
import { createTrainPool } from "../../src/models/train-pool.ts";
import { readArrowStream } from "../../src/record/index.ts";
import { markdownTable } from "../report.ts";
import { round } from "../speed-lib.ts";
import type { SectionOutput, SpeedContext } from "./context.ts";

/**
 * RL overhead: the same training budget (one epoch of the env spec's batches) run
 * (a) as plain training (`trainStep` over the epoch's bucketed batches, no evaluation),
 * (b) as an `rl-train run` episode with the `none` agent (the env still evaluates the reward
 *     subset after every step and records every step), and
 * (c, d) as episodes with the `reinforce` and `ppo` agents.
 * Episode time is the last step's `wall_ms` (from run start to the end of the budget: data and
 * env set-up, training, reward evaluations, agent updates, recording), so the final full
 * validation/test evaluation, which every run ends with, is left out.
 */
export async function benchRlOverhead(ctx: SpeedContext): Promise<SectionOutput> {
  const { opts, log } = ctx;
  const { runExperiment } = await import("../../src/cli/experiment.ts");
  const spec = loadEnvSpec(opts.env);
  const { split } = loadSpecData(spec, { log });
  const info = await ctx.backend();
  const trainPool = createTrainPool(spec.model.gradientShards > 1 ? opts.trainThreads : 1, info.name, log);
  const model = new SASRec(spec.model, split.dataset.numItems, new Rng(1).child("model"), { shardRunner: trainPool });
  const batches = bucketedTrainBatches(split, { batchSize: spec.training.batchSize, maxLen: spec.model.maxLen, rng: new Rng(1).child("batches") });
  // Untimed warm-up (thread pools started, kernels and heap at their epoch sizes), as in the train section.
  for (const b of [...batches].sort((x, y) => x.seqs[0]!.length - y.seqs[0]!.length).filter((_, i, xs) => i % Math.ceil(xs.length / 4) === 0)) model.trainStep(b);
  let t = performance.now();
  for (const b of batches) model.trainStep(b);
  const plainS = (performance.now() - t) / 1000;
  model.dispose();
  await trainPool.close();
  log(`rl: plain epoch ${plainS.toFixed(1)} s`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-rl-overhead-"));
  const episode = async (agent: string) => {
    const r = await runExperiment({ env: opts.env, agent: `policies/${agent}.json`, episodes: 1, seed: 1, out, runId: agent, backend: opts.backend, budgetEpochs: 1, checkpointEvery: 0, log: null });
    const rows = readArrowStream<{ wall_ms: number }>(path.join(r.runDir, "steps.arrows")).rows;
    const s = rows.at(-1)!.wall_ms / 1000;
    log(`rl: ${agent} episode ${s.toFixed(1)} s (${rows.length} steps)`);
    return { seconds: s, steps: rows.length };
  };
  // An untimed short episode first: the first one in a process pays one-off costs (evaluation
  // threads starting, kernels for the reward subset's shapes) that would be charged to `none`.
  await runExperiment({ env: opts.env, agent: "policies/none.json", episodes: 1, seed: 2, out, runId: "warm-up", backend: opts.backend, budgetEpochs: 0.2, checkpointEvery: 0, log: null });
  const none = await episode("none");
  const reinforce = await episode("reinforce");
  const ppo = await episode("ppo");
  const json = {
    budget: `1 epoch (${batches.length} batches of ${spec.training.batchSize}), ${spec.rl.batchesPerStep} batches per step, reward on ${spec.rl.reward.validUsers} validation users every ${spec.rl.reward.evalEvery} step(s)`,
    plain_training_s: round(plainS, 2),
    none_episode_s: round(none.seconds, 2),
    reinforce_episode_s: round(reinforce.seconds, 2),
    ppo_episode_s: round(ppo.seconds, 2),
    steps: none.steps,
    reinforce_over_none: round(reinforce.seconds / none.seconds, 3),
    ppo_over_none: round(ppo.seconds / none.seconds, 3),
    reinforce_over_plain: round(reinforce.seconds / plainS, 3),
    ppo_over_plain: round(ppo.seconds / plainS, 3),
    none_over_plain: round(none.seconds / plainS, 3),
  };
  fs.rmSync(out, { recursive: true, force: true });
  const md = [
    `Budget: ${json.budget}. Episode time excludes the final full evaluation.`,
    "",
    markdownTable([
      { run: "plain training (no RL, no evaluation)", seconds: json.plain_training_s, "× plain": 1 },
      { run: "episode, none agent (reward evals + logging)", seconds: json.none_episode_s, "× plain": json.none_over_plain },
      { run: "episode, reinforce", seconds: json.reinforce_episode_s, "× plain": json.reinforce_over_plain },
      { run: "episode, ppo", seconds: json.ppo_episode_s, "× plain": json.ppo_over_plain },
    ]),
    "",
    `reinforce ÷ none = ${json.reinforce_over_none}, ppo ÷ none = ${json.ppo_over_none}.`,
  ].join("\n");
  return { json, md };
}
