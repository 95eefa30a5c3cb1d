/**
 * A synthetic run: plausible step and episode rows without training anything. Used by tests,
 * the monitor's browser test and `rl-train monitor --demo` to exercise logs and the page.
 */
import type { Rng } from "../core/rng.ts";
import type { RunHook, RunStartInfo } from "./hooks.ts";
import { type EpisodeRow, makeEpisodeRow, makeStepRow, type StepRow } from "./schema.ts";

/** Shape of a synthetic run. */
export interface SyntheticRunOptions {
  /** Default `synthetic`. */
  runId?: string;
  /** Default 3. */
  episodes?: number;
  /** Steps per episode. Default 20. */
  stepsPerEpisode?: number;
  /** Default 8. */
  observationDim?: number;
  /** Default ["none", "crop", "mask", "reorder", "insert", "substitute"]. */
  opNames?: string[];
  /** Validation is evaluated every this many steps. Default 5. */
  evalEvery?: number;
  /** Every this many steps the sub-policy applies two ops. Default 7. */
  pairEvery?: number;
}

/** A resolved synthetic run: the start info plus all rows in emission order. */
export interface SyntheticRun {
  info: RunStartInfo;
  /** Rows in the order the loop emits them: an episode's steps, then its episode row. */
  events: Array<{ kind: "step"; row: StepRow } | { kind: "episode"; row: EpisodeRow }>;
  steps: StepRow[];
  episodes: EpisodeRow[];
}

/** Generate a synthetic run; the same rng state gives the same rows. */
export function syntheticRun(rng: Rng, opts: SyntheticRunOptions = {}): SyntheticRun {
  const runId = opts.runId ?? "synthetic";
  const nEp = opts.episodes ?? 3;
  const nSteps = opts.stepsPerEpisode ?? 20;
  const dim = opts.observationDim ?? 8;
  const opNames = opts.opNames ?? ["none", "crop", "mask", "reorder", "insert", "substitute"];
  const evalEvery = opts.evalEvery ?? 5;
  const pairEvery = opts.pairEvery ?? 7;
  const info: RunStartInfo = {
    run_id: runId,
    observation_dim: dim,
    op_names: opNames,
    config: { agent: "synthetic", episodes: nEp, steps_per_episode: nSteps, seed: rng.seed },
    started_at: "2026-01-01T00:00:00.000Z",
  };
  const events: SyntheticRun["events"] = [];
  const steps: StepRow[] = [];
  const episodes: EpisodeRow[] = [];
  // Preferences drift towards later ops so the heatmap shows the policy changing.
  const prefs = opNames.map((_, i) => 1 + i);
  let wall = 0;
  let ndcg = 0.01;
  for (let ep = 0; ep < nEp; ep++) {
    let ret = 0;
    let loss = 8 - ep * 0.5;
    for (let t = 0; t < nSteps; t++) {
      const k = t % pairEvery === pairEvery - 1 ? 2 : 1;
      const ops: string[] = [];
      const mags: number[] = [];
      for (let j = 0; j < k; j++) {
        const o = opNames[rng.categorical(prefs.map((p, i) => (i === 0 ? 1 : p * (1 + (ep * t) / (nEp * nSteps)))))]!;
        if (o === "none") continue;
        ops.push(o);
        mags.push(Math.round(rng.random() * 100) / 100);
      }
      loss = Math.max(0.5, loss * (0.98 + 0.01 * rng.random()));
      const evaluated = t % evalEvery === evalEvery - 1;
      const prev = ndcg;
      if (evaluated) ndcg = Math.min(0.05, ndcg + 0.0005 + 0.001 * rng.normal(0, 1) * 0.3);
      const reward = evaluated ? ndcg - prev : null;
      if (reward !== null) ret += reward;
      wall += 50 + 20 * rng.random();
      const observation = new Float32Array(dim);
      for (let d = 0; d < dim; d++) observation[d] = rng.normal();
      const row = makeStepRow({
        run_id: runId,
        episode: ep,
        step: t,
        ops,
        magnitudes: mags,
        reward,
        train_loss: loss,
        valid_ndcg10: evaluated ? ndcg : null,
        valid_hr10: evaluated ? ndcg * 2 : null,
        observation: Array.from(observation),
        log_prob: Math.log(0.1 + 0.8 * rng.random()),
        value: rng.normal(0, 0.01),
        event: t === 3 && ep === 1 ? "nan-rollback" : null,
        wall_ms: wall,
      });
      steps.push(row);
      events.push({ kind: "step", row });
    }
    const row = makeEpisodeRow({
      run_id: runId,
      episode: ep,
      agent: "synthetic",
      seed: `${rng.seed}-${ep}`,
      steps: nSteps,
      return: ret,
      valid_ndcg10: ndcg,
      valid_hr10: ndcg * 2,
      test_ndcg10: ndcg * 0.95,
      test_hr10: ndcg * 1.9,
      duration_s: (nSteps * 60) / 1000,
      extra: ep === 0 ? JSON.stringify({ test_mrr10: ndcg * 0.8 }) : null,
    });
    episodes.push(row);
    events.push({ kind: "episode", row });
  }
  return { info, events, steps, episodes };
}

/** Feed a synthetic run through a hook like the training loop would (stops on `false`). */
export function playSynthetic(run: SyntheticRun, hook: RunHook): void {
  const t0 = Date.now();
  hook.onRunStart?.(run.info);
  let stopped = false;
  let n = 0;
  for (const e of run.events) {
    const go = e.kind === "step" ? hook.onStep?.(e.row) : hook.onEpisode?.(e.row);
    if (e.kind === "step") n++;
    if (go === false) {
      stopped = true;
      break;
    }
  }
  hook.onRunEnd?.({
    run_id: run.info.run_id,
    status: stopped ? "stopped" : "completed",
    episodes: run.episodes.length,
    steps: n,
    duration_s: (Date.now() - t0) / 1000,
  });
}
