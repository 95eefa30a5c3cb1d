/**
 * `rl-train run` and `rl-train resume` as plain async functions (the yargs commands are thin).
 *
 * Top to bottom: check options → load the env spec and build the env and the agent (every input
 * error surfaces here, before a run folder exists) → run folder → hooks (recorder first, then
 * the monitor: records are written before they are streamed) → episodes, one at a time
 * (`playEpisode`, online learning) or in parallel rounds (`playParallelRound`, on worker threads
 * or, with `--queue`, on `rl-train worker` processes through BullMQ) → summary.
 *
 * Reproducibility: every random draw comes from the run seed (env streams per episode, the
 * agent's own stream); a checkpoint stores every stream, the model and optimizer, the agent and
 * the recorder positions, so `resume` continues a killed run into the same files.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../core/files.ts";
import { Rng } from "../core/rng.ts";
import { createAgent, loadAgentSpec, resolveAgentSpec, type Agent, type ResolvedAgentSpec } from "../agents/index.ts";
import { createEnv, loadAnyEnvSpec, type AnyEnvSpec, type Env, type EnvDeps } from "../env/index.ts";
import { HookList, type RunHook } from "../record/hooks.ts";
import { RunRecorder, SUMMARY_FILE, CONFIG_FILE, EPISODES_FILE } from "../record/run-recorder.ts";
import { readArrowStream } from "../record/recorder.ts";
import { metricCells, type EpisodeRow } from "../record/schema.ts";
import { selectBackend, type BackendChoice, type BackendInfo } from "../tf/backend.ts";
import { createEvalPool } from "../models/eval-pool.ts";
import { createTrainPool } from "../models/train-pool.ts";
import { shardThreads } from "../models/helper-thread.ts";
import { createRunDir, makeRunId, runMetadata } from "../core/run-id.ts";
import { FINAL_AGENT_FILE, readCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { PROJECT_ROOT, rebaseSpec } from "./queue/paths.ts";
import { playEpisode } from "./episode.ts";
import { checkExperimentOptions } from "./options.ts";
import { playParallelRound, threadExecutor, type EpisodeExecutor } from "./parallel.ts";
import { inProcessBranchRunner, playBranchedEpisode, threadBranchRunner, type BranchRunner } from "./branches.ts";
import { ProgressReporter } from "./progress.ts";
import { RunSession } from "./session.ts";

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
   * Play the episodes of parallel rounds on `rl-train worker` processes through the BullMQ queue
   * at this Redis URL (redis://HOST:PORT[/DB]) instead of local threads; results never depend on it.
   */
  queue?: string;
  /** An already resolved env spec instead of the file `env` (queue workers receive specs as data). */
  envSpec?: AnyEnvSpec;
  /** An already resolved agent spec instead of the file `agent`. */
  agentSpec?: ResolvedAgentSpec;
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
  /** Serve the live monitor on this port (0: a free one). */
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
  env: AnyEnvSpec;
  agent: ResolvedAgentSpec;
  checkpointEvery: number;
  parallelEpisodes: number;
  backend: BackendInfo;
  metadata: ReturnType<typeof runMetadata>;
  /** The checkout the run was started from; `resume` in another checkout reads the files under it from its own. Absent in older runs. */
  project_root?: string;
  /** Threads that ran evaluation and gradient shards in this process (speed only: results never depend on them). */
  threads?: { eval: number; train: number };
}

export interface RunResult {
  runDir: string;
  runId: string;
  episodes: Array<{ episode: number; return: number; valid: Record<string, number>; test: Record<string, number>; steps: number }>;
  stopped: boolean;
}

const stderrLog = (l: string) => console.error(l);

/** Start a new run. */
export async function runExperiment(options: Partial<RunOptions>): Promise<RunResult> {
  const o = { ...RUN_DEFAULTS, ...options } as RunOptions;
  checkExperimentOptions(o);
  const log = o.log === undefined ? stderrLog : o.log;
  const envSpec = o.envSpec ? structuredClone(o.envSpec) : loadAnyEnvSpec(o.env);
  if (o.budgetEpochs !== undefined) envSpec.rl.budget = { epochs: o.budgetEpochs };
  const agentSpec = o.agentSpec ? structuredClone(o.agentSpec) : resolveAgentSpec(loadAgentSpec(o.agent));
  const backend = await selectBackend(o.backend, log);
  const config: Omit<RunConfig, "run_id"> = {
    seed: o.seed, episodes: o.episodes, env: envSpec, agent: agentSpec,
    checkpointEvery: o.checkpointEvery ?? envSpec.rl.checkpointEvery, parallelEpisodes: o.parallelEpisodes ?? 1,
    backend, metadata: runMetadata(), project_root: PROJECT_ROOT,
  };
  // Build everything that can fail on bad input before the run folder exists.
  const built = await build(config as RunConfig, o, log);
  try {
    const { runId, dir } = createRunDir(o.out, o.runId ?? makeRunId(agentSpec.agent, o.seed));
    return await loop({ ...config, run_id: runId }, dir, o, log, null, built, false);
  } catch (err) {
    built.env.dispose();
    await built.closePools();
    throw err;
  }
}

/** Read a run's config.json, with a message naming the file when it is missing or damaged. */
function readRunConfig(runDir: string): RunConfig {
  const file = path.join(runDir, CONFIG_FILE);
  if (!fs.existsSync(file)) throw new Error(`\`${runDir}\` has no ${CONFIG_FILE}; pass a run folder written by \`rl-train run\`, such as runs/<run-id>`);
  let info: { config?: RunConfig };
  try {
    info = JSON.parse(fs.readFileSync(file, "utf8")) as { config?: RunConfig };
  } catch (err) {
    throw new Error(`\`${file}\` is not readable JSON (${(err as Error).message}); the run cannot be resumed without it`);
  }
  const c = info?.config;
  const ok = c && typeof c === "object" && typeof c.run_id === "string" && Number.isSafeInteger(c.seed) && Number.isSafeInteger(c.episodes) &&
    c.env && typeof c.env === "object" && c.agent && typeof c.agent === "object" && typeof c.agent.agent === "string" && c.backend && typeof c.backend.name === "string";
  if (!ok) throw new Error(`\`${file}\` is not the config of an \`rl-train run\` (run_id, seed, episodes, env, agent and backend are needed); the run cannot be resumed`);
  return c;
}

/** Status of summary.json, or null when there is none or it is unreadable (e.g. cut by a full disk). */
function summaryStatus(runDir: string, log: ((l: string) => void) | null): string | null {
  const file = path.join(runDir, SUMMARY_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { status?: string }).status ?? null;
  } catch {
    log?.(`[augrl] warning: \`${file}\` is unreadable (a write cut short); resuming from the last checkpoint`);
    return null;
  }
}

/** Continue a run from its last checkpoint (or from the start when none was written). */
export async function resumeExperiment(runDir: string, options: Partial<RunOptions> = {}): Promise<RunResult> {
  const log = options.log === undefined ? stderrLog : options.log;
  const config = readRunConfig(runDir);
  if (config.project_root !== undefined && path.resolve(config.project_root) !== PROJECT_ROOT) {
    // A run folder carried to another checkout (another session's clone, another machine): its
    // data, spec and warm-start paths point into the first checkout.
    log?.(`[augrl] run started in ${config.project_root}; reading its files under this checkout ${PROJECT_ROOT}`);
    config.env = rebaseSpec(config.env, config.project_root, PROJECT_ROOT);
    config.project_root = PROJECT_ROOT;
  }
  if (summaryStatus(runDir, log) === "completed") throw new Error(`run \`${runDir}\` already completed; nothing to resume`);
  const o = { ...RUN_DEFAULTS, ...options, env: config.env.source, agent: "", seed: config.seed } as RunOptions;
  checkExperimentOptions(o);
  const backend = await selectBackend(config.backend.name, log);
  if (backend.name !== config.backend.name) log?.(`[augrl] warning: run started on ${config.backend.name}, resuming on ${backend.name}`);
  const built = await build(config, o, log);
  try {
    // The whole checkpoint is checked before any log file is opened for writing.
    const cp = readCheckpoint(runDir, { envKind: built.env.kind, envVersion: built.env.version, agent: config.agent.agent, episodes: config.episodes });
    log?.(`[augrl] resuming ${config.run_id} ${cp ? `at episode ${cp.episode} step ${(cp.env as { stepCount?: number } | null)?.stepCount ?? 0}` : "from the start (no checkpoint)"}`);
    return await loop(config, runDir, o, log, cp, built, true);
  } catch (err) {
    built.env.dispose();
    await built.closePools();
    throw err;
  }
}

interface Built {
  env: Env;
  agent: Agent;
  threads: { eval: number; train: number };
  /** The evaluation and training helper threads the env was given (also for in-process parallel episodes). */
  deps: EnvDeps;
  /** Stop those helper threads. */
  closePools(): Promise<void>;
}

/** Branches per stage of the run's env (1: no branching). */
const branchCount = (config: RunConfig) => branchSettings(config).count;
const branchSettings = (config: RunConfig) => ("branches" in config.env.rl ? config.env.rl.branches : undefined) ?? { count: 1, stageSteps: 1 };

async function build(config: RunConfig, o: RunOptions, log: ((l: string) => void) | null): Promise<Built> {
  if (branchCount(config) > 1 && config.parallelEpisodes > 1) {
    throw new Error(`\`--parallel-episodes\` (${config.parallelEpisodes}) cannot be combined with \`rl.branches.count\` (${branchCount(config)}) in ${config.env.source}: the branches already use the cores; pass one of them`);
  }
  if (o.queue !== undefined && config.parallelEpisodes <= 1) {
    throw new Error(`\`--queue\` spreads the episodes of parallel rounds over workers, but this run plays one episode at a time; pass --parallel-episodes P (P >= 2), or leave out --queue`);
  }
  // Queued episodes run elsewhere: this process only learns between rounds and may use every core.
  const parallelBusy = ((config.parallelEpisodes > 1 && o.queue === undefined) || branchCount(config) > 1) && (o.workers ?? os.availableParallelism()) > 1;
  const evalPool = createEvalPool(parallelBusy ? 1 : (o.evalThreads ?? "auto"), config.backend.name, log ?? undefined);
  const trainPool = createTrainPool(parallelBusy ? 1 : (o.trainThreads ?? "auto"), config.backend.name, log ?? undefined);
  const closePools = async () => void (await Promise.all([evalPool.close(), trainPool.close()]));
  const deps = { shardRunner: trainPool, evalRunner: evalPool };
  const env = await createEnv(config.env, { log: log ?? undefined, ...deps });
  try {
    const agent = createAgent(config.agent, env.actionSpace, env.observationDim, new Rng(config.seed).child("agent"));
    checkEpisodeGroup(config, agent.episodeGroup ?? 1);
    return { env, agent, threads: { eval: evalPool.threads, train: shardThreads((config.env as { model?: { gradientShards?: number } }).model?.gradientShards ?? 1, trainPool.threads) }, deps, closePools };
  } catch (err) {
    env.dispose();
    await closePools();
    throw err;
  }
}

/** An agent that compares episodes in groups needs whole groups per parallel round and no branches. */
function checkEpisodeGroup(config: RunConfig, group: number): void {
  if (group <= 1) return;
  const who = `agent \`${config.agent.agent}\` compares episodes in groups of ${group} played from one env seed`;
  if (branchCount(config) > 1) throw new Error(`${who}; it cannot run with \`rl.branches\` in ${config.env.source}: leave out the branches`);
  if (config.parallelEpisodes > 1 && config.parallelEpisodes % group !== 0) {
    throw new Error(`${who}: \`--parallel-episodes\` (${config.parallelEpisodes}) must be a multiple of ${group}`);
  }
  if (config.episodes % group !== 0) throw new Error(`${who}: \`--episodes\` (${config.episodes}) must be a multiple of ${group}`);
}

/** The last episode row already in the run's file (a resumed run's summary names it). */
function lastRecordedEpisode(runDir: string, rows: number): EpisodeRow | undefined {
  if (rows === 0) return undefined;
  return readArrowStream<EpisodeRow>(path.join(runDir, EPISODES_FILE)).rows[rows - 1];
}

async function loop(config: RunConfig, runDir: string, o: RunOptions, log: ((l: string) => void) | null, cp: Checkpoint | null, built: Built, resuming: boolean): Promise<RunResult> {
  const { env, agent } = built;
  config.threads = built.threads;
  const recorder = new RunRecorder(runDir, resuming ? { resume: cp ? cp.recorder : { steps: 0, episodes: 0, updates: 0 } } : {});
  let monitor: (RunHook & { close(): Promise<void>; url: string }) | undefined;
  if (o.monitor !== undefined) {
    // On its own thread: training blocks this one for seconds at a time.
    const { MonitorThread } = await import("../monitor/thread.ts");
    monitor = await MonitorThread.start({ port: o.monitor, host: o.monitorHost ?? "127.0.0.1", ...(o.token ? { token: o.token } : {}) }, log ?? undefined);
    log?.(`[augrl] monitor: ${monitor.url}`);
  }
  const metric = env.stepMetrics[0]!;
  const session = new RunSession(
    config, runDir, env, agent,
    new HookList([recorder, monitor, ...(o.hooks ?? [])]),
    new HookList([recorder, ...(o.hooks ?? [])]),
    recorder,
    new ProgressReporter(log, o.log === undefined && process.stderr.isTTY, metric),
    log, monitor, cp?.wallOffsetMs ?? 0,
  );
  session.hooks.onRunStart({
    run_id: config.run_id, observation_dim: env.observationDim, op_names: env.actionSpace.ops,
    config: config as unknown as Record<string, unknown>, started_at: new Date().toISOString(),
    env_kind: env.kind, step_metrics: [...env.stepMetrics], episode_metrics: [...env.episodeMetrics],
  });
  log?.(`[augrl] run ${config.run_id}: agent ${config.agent.agent}, ${config.episodes} episode(s) of ${env.kind} env: ${env.describe()} → ${runDir}`);

  let firstEpisode = 0;
  let resumeEnv: Checkpoint | null = null;
  if (cp) {
    agent.load(cp.agent);
    session.updates = cp.updates;
    firstEpisode = cp.episode;
    if (cp.env) resumeEnv = cp;
  }
  const before = recorder.counts();
  const earlierEpisode = lastRecordedEpisode(runDir, before.episodes);
  let branchRunner: BranchRunner | undefined;
  let executor: EpisodeExecutor | undefined;
  try {
    const P = config.parallelEpisodes;
    if (P > 1) {
      executor = o.queue !== undefined ? await (await import("./queue/client.ts")).queueExecutor(o.queue, log) : threadExecutor(o.workers ?? os.availableParallelism(), built.deps);
      log?.(`[augrl] rounds of ${P} parallel episodes on ${executor.describe}`);
    }
    const branches = branchSettings(config);
    if (branches.count > 1) {
      const workers = Math.min(branches.count, o.workers ?? os.availableParallelism());
      branchRunner = workers > 1 ? await threadBranchRunner({ env: config.env, agent: config.agent, backend: config.backend.name }, workers) : inProcessBranchRunner(env, config.agent);
      log?.(`[augrl] ${branches.count} paired branches per stage of ${branches.stageSteps} step(s), on ${workers > 1 ? `${workers} worker threads` : "this thread"}`);
    }
    for (let start = firstEpisode; start < config.episodes && !session.result.stopped; start += P) {
      if (branchRunner) {
        await playBranchedEpisode(session, start, branches, branchRunner, resumeEnv ? { env: resumeEnv.env, episodeReturn: resumeEnv.episodeReturn, episodeStartedMs: resumeEnv.episodeStartedMs } : undefined);
        resumeEnv = null;
      } else if (P > 1) {
        const eps = Array.from({ length: Math.min(P, config.episodes - start) }, (_, k) => start + k);
        await playParallelRound(session, eps, executor!);
      } else {
        await playEpisode(session, start, resumeEnv ? { env: resumeEnv.env, episodeReturn: resumeEnv.episodeReturn, episodeStartedMs: resumeEnv.episodeStartedMs } : undefined);
        resumeEnv = null;
      }
      const next = start + P;
      if (next < config.episodes && !session.result.stopped) session.checkpoint(next, null);
    }
    // The trained agent, for exports that read the policy itself (es: its mean schedule).
    if (!session.result.stopped) {
      fs.mkdirSync(path.join(runDir, path.dirname(FINAL_AGENT_FILE)), { recursive: true });
      writeFileAtomic(path.join(runDir, FINAL_AGENT_FILE), JSON.stringify(agent.save()) + "\n");
    }
    finish(session, earlierEpisode, session.result.stopped ? "stopped" : "completed");
  } catch (err) {
    try {
      finish(session, earlierEpisode, "failed", (err as Error).message);
    } catch {
      // The original error says more than a failure to write the summary after it.
    }
    throw err;
  } finally {
    session.progress.stop();
    await branchRunner?.close();
    await executor?.close?.();
    env.dispose();
    (agent as Agent & { dispose?(): void }).dispose?.();
    await monitor?.close();
    await built.closePools();
  }
  return session.result;
}

/** The run's end: totals over the whole run (a resumed run included), last episode's metrics. */
function finish(session: RunSession, earlier: EpisodeRow | undefined, status: "completed" | "stopped" | "failed", error?: string): void {
  const counts = session.recorder.counts();
  const names = session.env.episodeMetrics;
  const last = session.result.episodes.at(-1) ?? (earlier?.extra ? (JSON.parse(earlier.extra) as { valid: Record<string, number>; test: Record<string, number> }) : undefined);
  // Summary keys as the episode columns name them (test_ndcg10, valid_accuracy, ...).
  const metrics: Record<string, number | null> = last
    ? { ...metricCells("test", names.slice(0, 2), last.test), ...metricCells("valid", names.slice(0, 1), last.valid) }
    : {};
  session.hooks.onRunEnd({
    run_id: session.config.run_id, status, episodes: counts.episodes, steps: counts.steps,
    duration_s: session.wallMs() / 1000, ...(error ? { error } : {}), metrics,
  });
}
