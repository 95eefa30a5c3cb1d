/**
 * `rl-train run` and `rl-train resume` as plain async functions (the yargs commands are thin).
 *
 * Loop, top to bottom: seed → env + agent → hooks (recorder first, then the monitor: records are
 * written before they are streamed) → per episode: reset → per step: act → step → observe →
 * update → record → checkpoint → episode row with full validation and test metrics.
 *
 * Reproducibility: every random draw comes from the run seed (env streams per episode, the
 * agent's own stream); a checkpoint stores every stream, the model and optimizer, the agent and
 * the recorder positions, so `resume` continues a killed run into the same files.
 */
import cliProgress from "cli-progress";
import * as fs from "node:fs";
import * as path from "node:path";
import { Rng } from "../core/rng.ts";
import { parseWithArrays, stringifyWithArrays } from "../core/serialize.ts";
import { createAgent, loadAgentSpec, resolveAgentSpec, type Action, type Agent, type AgentState, type ResolvedAgentSpec } from "../agents/index.ts";
import { AugmentEnv, loadEnvSpec, loadSpecData, type AugmentEnvState, type ResolvedEnvSpec, type StepInfo } from "../env/index.ts";
import { HookList, type RunHook } from "../record/hooks.ts";
import { RunRecorder } from "../record/run-recorder.ts";
import { makeEpisodeRow, makeStepRow } from "../record/schema.ts";
import { selectBackend, type BackendChoice, type BackendInfo } from "../tf/backend.ts";
import { useEvalThreads } from "../models/eval-pool.ts";
import { useTrainThreads } from "../models/train-pool.ts";
import { shardThreads } from "../models/helper-thread.ts";
import { createRunDir, makeRunId, runMetadata } from "../core/run-id.ts";
import * as os from "node:os";
import { episodeAgentState, playRound, type PlayedEpisode } from "./parallel.ts";

export interface RunOptions {
  /** Env spec file. Default envs/beauty-sasrec.json. */
  env: string;
  /** Agent spec file (policies/*.json) or an exported schedule. Default policies/reinforce.json. */
  agent: string;
  /** Episodes to run. Default 1. */
  episodes: number;
  /** Root seed. Default 1. */
  seed: number;
  /** Folder that receives runs/<run-id>/. Default runs. */
  out: string;
  backend: BackendChoice;
  /** Override the spec's training budget per episode, in epochs. */
  budgetEpochs?: number;
  /** Checkpoint every this many steps (0 = only at episode ends). Default: the spec's rl.checkpointEvery. */
  checkpointEvery?: number;
  /**
   * Episodes played at once from one frozen policy, the agent learning between rounds
   * (OHL-AutoAug's parallel trajectories). Default 1: one episode at a time, online updates.
   */
  parallelEpisodes?: number;
  /** Worker threads for parallel episodes (results never depend on it). Default: CPU cores. */
  workers?: number;
  /**
   * Threads for full-ranking evaluation (reward and end-of-episode metrics; results never depend
   * on it). Default auto: CPU cores, or 1 when parallel episodes already use the cores.
   */
  evalThreads?: number | "auto";
  /**
   * Threads for the gradient shards of a training step (model.gradientShards > 1; weights never
   * depend on it). Default auto: CPU cores, or 1 when parallel episodes already use the cores.
   */
  trainThreads?: number | "auto";
  /** Serve the live monitor on this port. */
  monitor?: number;
  monitorHost?: string;
  token?: string;
  /** Fixed run id (tests); default: time + agent + seed. */
  runId?: string;
  /** Progress output; default: stderr lines. Pass null to stay quiet. */
  log?: ((line: string) => void) | null;
  /** Extra hooks (tests). */
  hooks?: RunHook[];
}

export const RUN_DEFAULTS: Omit<RunOptions, "env" | "agent"> & { env: string; agent: string } = {
  env: "envs/beauty-sasrec.json",
  agent: "policies/reinforce.json",
  episodes: 1,
  seed: 1,
  out: "runs",
  backend: "auto",
};

/** What config.json records: enough to rebuild the run exactly. */
export interface RunConfig {
  run_id: string;
  seed: number;
  episodes: number;
  env: ResolvedEnvSpec;
  agent: ResolvedAgentSpec;
  checkpointEvery: number;
  parallelEpisodes: number;
  backend: BackendInfo;
  metadata: ReturnType<typeof runMetadata>;
  /** Threads that ran evaluation and gradient shards in this process (speed only: results never depend on them). */
  threads?: { eval: number; train: number };
}

export interface RunResult {
  runDir: string;
  runId: string;
  episodes: Array<{ episode: number; return: number; valid: Record<string, number>; test: Record<string, number>; steps: number }>;
  stopped: boolean;
}

interface Checkpoint {
  version: 1;
  episode: number;
  episodeReturn: number;
  episodeStartedMs: number;
  /** Null at an episode boundary (the next episode starts from reset). */
  env: AugmentEnvState | null;
  agent: AgentState;
  recorder: { steps: number; episodes: number };
  wallOffsetMs: number;
}

const CHECKPOINT = "checkpoints/latest.json";

function writeCheckpoint(runDir: string, cp: Checkpoint): void {
  const file = path.join(runDir, CHECKPOINT);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename: a kill during the write leaves the previous checkpoint intact.
  fs.writeFileSync(file + ".tmp", stringifyWithArrays(cp));
  fs.renameSync(file + ".tmp", file);
}

function episodeSeed(seed: number, episode: number): string {
  return `${seed}/episode-${episode}`;
}

/** Start a new run. */
export async function runExperiment(options: Partial<RunOptions>): Promise<RunResult> {
  const o = { ...RUN_DEFAULTS, ...options } as RunOptions;
  const log = o.log === undefined ? (l: string) => console.error(l) : o.log;
  const backend = await selectBackend(o.backend, log);
  const env = loadEnvSpec(o.env);
  if (o.budgetEpochs !== undefined) env.rl.budget = { epochs: o.budgetEpochs };
  const agentSpec = resolveAgentSpec(loadAgentSpec(o.agent));
  const { runId, dir: runDir } = createRunDir(o.out, o.runId ?? makeRunId(agentSpec.agent, o.seed));
  const config: RunConfig = {
    run_id: runId, seed: o.seed, episodes: o.episodes, env, agent: agentSpec,
    checkpointEvery: o.checkpointEvery ?? env.rl.checkpointEvery, parallelEpisodes: Math.max(1, o.parallelEpisodes ?? 1),
    backend, metadata: runMetadata(),
  };
  return loop(config, runDir, o, log, undefined);
}

/** Continue a run from its last checkpoint (or from the start when none was written). */
export async function resumeExperiment(runDir: string, options: Partial<RunOptions> = {}): Promise<RunResult> {
  const log = options.log === undefined ? (l: string) => console.error(l) : options.log;
  const cfgFile = path.join(runDir, "config.json");
  if (!fs.existsSync(cfgFile)) throw new Error(`\`${runDir}\` has no config.json; pass a run folder such as runs/<run-id>`);
  const info = JSON.parse(fs.readFileSync(cfgFile, "utf8")) as { config: RunConfig };
  const config = info.config;
  const summary = path.join(runDir, "summary.json");
  if (fs.existsSync(summary) && (JSON.parse(fs.readFileSync(summary, "utf8")) as { status: string }).status === "completed") {
    throw new Error(`run \`${runDir}\` already completed; nothing to resume`);
  }
  const backend = await selectBackend(config.backend.name, log);
  if (backend.name !== config.backend.name) log?.(`[augrl] warning: run started on ${config.backend.name}, resuming on ${backend.name}`);
  const cpFile = path.join(runDir, CHECKPOINT);
  const cp = fs.existsSync(cpFile) ? parseWithArrays<Checkpoint>(fs.readFileSync(cpFile, "utf8")) : undefined;
  log?.(`[augrl] resuming ${config.run_id} ${cp ? `at episode ${cp.episode} step ${cp.env?.stepCount ?? 0}` : "from the start (no checkpoint)"}`);
  return loop(config, runDir, { ...RUN_DEFAULTS, ...options, env: config.env.source, agent: "", seed: config.seed } as RunOptions, log, cp ?? null);
}

async function loop(config: RunConfig, runDir: string, o: RunOptions, log: ((l: string) => void) | null, cp: Checkpoint | null | undefined): Promise<RunResult> {
  const parallelBusy = config.parallelEpisodes > 1 && (o.workers ?? os.availableParallelism()) > 1;
  const evalThreads = useEvalThreads(parallelBusy ? 1 : (o.evalThreads ?? "auto"), config.backend.name, log ?? undefined);
  const trainThreads = useTrainThreads(parallelBusy ? 1 : (o.trainThreads ?? "auto"), config.backend.name, log ?? undefined);
  config.threads = { eval: evalThreads, train: shardThreads(config.env.model.gradientShards, trainThreads) };
  const { split } = loadSpecData(config.env);
  const env = new AugmentEnv(config.env, split);
  const root = new Rng(config.seed);
  const agent: Agent = createAgent(config.agent, env.actionSpace, env.observationDim, root.child("agent"));
  const recorder = new RunRecorder(runDir, cp !== undefined ? { resume: cp ? cp.recorder : { steps: 0, episodes: 0 } } : {});
  let monitor: (RunHook & { close(): Promise<void>; url: string }) | undefined;
  if (o.monitor !== undefined) {
    // On its own thread: training blocks this one for seconds at a time.
    const { MonitorThread } = await import("../monitor/thread.ts");
    const m = await MonitorThread.start({ port: o.monitor, host: o.monitorHost ?? "127.0.0.1", ...(o.token ? { token: o.token } : {}) }, log ?? undefined);
    monitor = m;
    log?.(`[augrl] monitor: ${m.url}`);
  }
  const hooks = new HookList([recorder, monitor, ...(o.hooks ?? [])]);
  const t0 = performance.now() - (cp?.wallOffsetMs ?? 0);
  hooks.onRunStart({
    run_id: config.run_id, observation_dim: env.observationDim, op_names: env.actionSpace.ops,
    config: config as unknown as Record<string, unknown>, started_at: new Date().toISOString(),
  });
  log?.(`[augrl] run ${config.run_id}: agent ${config.agent.agent}, ${config.episodes} episode(s) × ${env.maxSteps} steps ` +
    `(${config.env.rl.budget.epochs} epoch(s) of ${env.batchesPerEpoch} batches, ${config.env.rl.batchesPerStep} per step) → ${runDir}`);

  const result: RunResult = { runDir, runId: config.run_id, episodes: [], stopped: false };
  let totalSteps = 0;
  let firstEpisode = 0;
  let resumeEnv: AugmentEnvState | undefined;
  if (cp) {
    agent.load(cp.agent);
    firstEpisode = cp.episode;
    resumeEnv = cp.env ?? undefined;
  }
  const metric = config.env.rl.reward.metric;
  /** Record one step (both paths); returns false when a hook asked to stop. */
  const recordStep = (ep: number, step: number, obs: Float32Array, action: Action, reward: number, info: StepInfo): boolean =>
    hooks.onStep(makeStepRow({
      run_id: config.run_id, episode: ep, step, ops: info.ops, magnitudes: info.magnitudes,
      // A plain array: the monitor sends rows as JSON, where a Float32Array would become an object.
      reward, train_loss: info.trainLoss, observation: Array.from(obs),
      valid_ndcg10: info.valid?.["NDCG@10"] ?? null, valid_hr10: info.valid?.["HR@10"] ?? null,
      log_prob: action.logProb ?? null, value: action.value ?? null, event: info.event ?? null,
      wall_ms: performance.now() - t0,
    })) !== false;
  const recordEpisode = (ep: number, steps: number, ret: number, final: { valid: Record<string, number>; test: Record<string, number> }, duration: number): boolean => {
    result.episodes.push({ episode: ep, return: ret, valid: final.valid, test: final.test, steps });
    log?.(`[augrl] episode ${ep} done in ${duration.toFixed(0)}s: return ${ret.toFixed(3)}, valid NDCG@10 ${final.valid["NDCG@10"]!.toFixed(4)}, ` +
      `test NDCG@10 ${final.test["NDCG@10"]!.toFixed(4)} HR@10 ${final.test["HR@10"]!.toFixed(4)} (full ranking, ${split.train.length} users)`);
    return hooks.onEpisode(makeEpisodeRow({
      run_id: config.run_id, episode: ep, agent: config.agent.agent, seed: episodeSeed(config.seed, ep), steps,
      return: ret, valid_ndcg10: final.valid["NDCG@10"]!, valid_hr10: final.valid["HR@10"]!,
      test_ndcg10: final.test["NDCG@10"]!, test_hr10: final.test["HR@10"]!, test_ndcg20: final.test["NDCG@20"]!, test_hr20: final.test["HR@20"]!,
      duration_s: duration, extra: JSON.stringify({ valid: final.valid, test: final.test }),
    })) !== false;
  };
  // A bar on an interactive terminal (default logging only); otherwise a line every 10% of an episode.
  const useBar = o.log === undefined && process.stderr.isTTY;
  let bar: cliProgress.SingleBar | undefined;
  const progress = (ep: number, step: number, maxSteps: number, info: StepInfo, ret: number, mix: Map<string, number>, losses: Record<string, number>) => {
    const ops = [...mix].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${Math.round((100 * v) / step)}%`).join(", ");
    if (useBar) {
      if (step === 1) {
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: "ep {ep} [{bar}] {value}/{total} steps | reward {ret} | {metric} | ops: {ops}", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(maxSteps, 0, { ep, ret: "0", metric: "", ops: "" });
      }
      bar?.update(step, { ret: ret.toFixed(3), metric: info.valid ? `valid ${metric} ${info.valid[metric]!.toFixed(4)}` : "", ops });
      if (step === maxSteps) bar?.stop();
      return;
    }
    if (step % Math.max(1, Math.floor(maxSteps / 10)) !== 0 && step !== maxSteps) return;
    log?.(`[augrl] ep ${ep} step ${step}/${maxSteps} loss ${info.trainLoss.toFixed(4)} return ${ret.toFixed(3)}` +
      (info.valid ? ` valid ${metric} ${info.valid[metric]!.toFixed(4)}` : "") + ` | ops: ${ops}` +
      (Object.keys(losses).length ? ` | ${Object.entries(losses).slice(0, 2).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(" ")}` : ""));
  };
  const boundaryCheckpoint = (nextEpisode: number) => {
    recorder.flush();
    // At an episode boundary the next episode starts from reset: no env state is needed.
    writeCheckpoint(runDir, {
      version: 1, episode: nextEpisode, episodeReturn: 0, episodeStartedMs: 0, env: null,
      agent: agent.save(), recorder: recorder.counts(), wallOffsetMs: performance.now() - t0,
    });
  };

  try {
    const P = config.parallelEpisodes;
    for (let start = firstEpisode; start < config.episodes && !result.stopped; start += P) {
      if (P > 1) {
        // A round of P episodes from one frozen policy, played on worker threads.
        const eps = Array.from({ length: Math.min(P, config.episodes - start) }, (_, k) => start + k);
        const shared = agent.save();
        const played: PlayedEpisode[] = await playRound(
          eps.map((ep) => ({ env: config.env, agent: config.agent, agentState: episodeAgentState(shared, config.seed, ep), backend: config.backend.name, episode: ep, seed: episodeSeed(config.seed, ep) })),
          o.workers ?? os.availableParallelism(),
        );
        for (const pe of played) {
          let ret = 0;
          const mix = new Map<string, number>();
          for (const [k, st] of pe.steps.entries()) {
            agent.observe(st);
            const losses = await agent.update();
            ret += st.reward;
            totalSteps++;
            const label = st.info.ops.join("+") || "none";
            mix.set(label, (mix.get(label) ?? 0) + 1);
            if (!recordStep(pe.episode, k, st.observation, st.action, st.reward, st.info)) result.stopped = true;
            progress(pe.episode, k + 1, pe.steps.length, st.info, ret, mix, losses);
          }
          if (!recordEpisode(pe.episode, pe.steps.length, ret, pe.final, pe.duration_s)) result.stopped = true;
        }
        if (start + P < config.episodes) boundaryCheckpoint(start + P);
        continue;
      }
      const ep = start;
      let obs: Float32Array;
      let episodeReturn = 0;
      let episodeStart = performance.now();
      if (resumeEnv) {
        env.setState(resumeEnv);
        obs = env.getObservation();
        episodeReturn = cp!.episodeReturn;
        episodeStart -= cp!.episodeStartedMs;
        resumeEnv = undefined;
      } else {
        obs = env.reset(episodeSeed(config.seed, ep));
      }
      const mix = new Map<string, number>();
      for (;;) {
        const action = agent.act(obs);
        const res = await env.step(action);
        agent.observe({ observation: obs, action, reward: res.reward, nextObservation: res.observation, terminated: res.terminated, truncated: res.truncated });
        const losses = await agent.update();
        episodeReturn += res.reward;
        totalSteps++;
        const label = res.info.ops.join("+") || "none";
        mix.set(label, (mix.get(label) ?? 0) + 1);
        if (!recordStep(ep, env.steps - 1, obs, action, res.reward, res.info)) result.stopped = true;
        progress(ep, env.steps, env.maxSteps, res.info, episodeReturn, mix, losses);
        obs = res.observation;
        if (res.terminated || res.truncated || result.stopped) break;
        if (config.checkpointEvery > 0 && env.steps % config.checkpointEvery === 0) {
          recorder.flush();
          writeCheckpoint(runDir, {
            version: 1, episode: ep, episodeReturn, episodeStartedMs: performance.now() - episodeStart,
            env: env.getState(), agent: agent.save(), recorder: recorder.counts(), wallOffsetMs: performance.now() - t0,
          });
        }
      }
      const final = env.finalMetrics();
      if (!recordEpisode(ep, env.steps, episodeReturn, final, (performance.now() - episodeStart) / 1000)) result.stopped = true;
      if (ep + 1 < config.episodes) boundaryCheckpoint(ep + 1);
    }
    const last = result.episodes.at(-1);
    hooks.onRunEnd({
      run_id: config.run_id, status: result.stopped ? "stopped" : "completed", episodes: result.episodes.length, steps: totalSteps,
      duration_s: (performance.now() - t0) / 1000,
      metrics: last ? { test_ndcg10: last.test["NDCG@10"]!, test_hr10: last.test["HR@10"]!, valid_ndcg10: last.valid["NDCG@10"]! } : {},
    });
  } catch (err) {
    hooks.onRunEnd({ run_id: config.run_id, status: "failed", episodes: result.episodes.length, steps: totalSteps, duration_s: (performance.now() - t0) / 1000, error: (err as Error).message });
    throw err;
  } finally {
    bar?.stop();
    env.dispose();
    (agent as Agent & { dispose?(): void }).dispose?.();
    await monitor?.close();
  }
  return result;
}
