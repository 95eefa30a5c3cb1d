/**
 * Parallel episodes that share one policy (OHL-AutoAug's parallel trajectories).
 *
 * A round of P episodes starts from the same agent state; each episode acts with a *frozen*
 * copy of the policy and its own agent stream derived from the run seed and the episode index,
 * in its own worker thread (each with its own wasm backend, so one per core). After the round
 * the shared agent observes every transition in episode order and updates. The results depend
 * on P (`--parallel-episodes`) and the seed, never on the number of workers N: a worker only
 * decides *where* an episode runs.
 *
 * Where episodes run is an `EpisodeExecutor` passed in by the caller: `threadExecutor(N)` (worker
 * threads of this process, the default) or the BullMQ executor of `--queue` (src/cli/queue), which
 * plays the same `FrozenEpisodeJob`s with `playFrozenEpisode` on other processes or machines.
 *
 * Live monitor: each step is posted to the training thread as soon as it is played and
 * forwarded to the monitor then; the recorder writes the round's rows in episode order when the
 * round ends (so the files never depend on which worker finished first). Rows are built from the
 * episode's final result; a step an executor did not stream live is sent to the monitor then.
 */
import { Worker } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { createAgent, type AgentState, type Transition } from "../agents/index.ts";
import { createEnv, type AnyEnvSpec, type EnvDeps, type EpisodeMetrics, type StepInfo } from "../env/index.ts";
import type { ResolvedAgentSpec } from "../agents/index.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";
import { groupStart, type RunSession } from "./session.ts";

export interface FrozenEpisodeJob {
  env: AnyEnvSpec;
  agent: ResolvedAgentSpec;
  agentState: AgentState;
  backend: BackendName;
  episode: number;
  seed: string;
}

/** A transition as the agent will observe it, plus what the recorder needs. */
export interface PlayedStep extends Transition {
  info: StepInfo;
  /** Steps of the episode's budget (the env's horizon). */
  horizon: number;
}

export interface PlayedEpisode {
  episode: number;
  steps: PlayedStep[];
  final: EpisodeMetrics;
  duration_s: number;
}

/**
 * The agent state a round's episode starts from: the shared state with the episode's own stream
 * and index. Episodes an agent compares in groups (`episodeGroup`) share the group's stream, so
 * they draw the same uniforms (common random numbers).
 */
export function episodeAgentState(shared: AgentState, runSeed: number, episode: number, group = 1): AgentState {
  const stream = new Rng(runSeed).child("agent").child(`episode-${groupStart(episode, group)}`);
  return group > 1 ? { ...shared, rng: stream.state(), episode } : { ...shared, rng: stream.state() };
}

/**
 * Play one episode with a frozen policy (no updates). Runs in a worker or in-process; `onStep`
 * sees each step as played; `deps` may give the env helper threads of the playing thread.
 */
export async function playFrozenEpisode(job: FrozenEpisodeJob, onStep?: (index: number, step: PlayedStep) => void, deps: EnvDeps = {}): Promise<PlayedEpisode> {
  await selectBackend(job.backend, null);
  const env = await createEnv(job.env, deps);
  const agent = createAgent(job.agent, env.actionSpace, env.observationDim, new Rng(0));
  agent.load(job.agentState);
  const t0 = performance.now();
  const steps: PlayedStep[] = [];
  let obs = env.reset({ seed: job.seed }).observation;
  try {
    for (;;) {
      const action = agent.act(obs);
      const r = await env.step(action);
      const played: PlayedStep = { observation: obs, action, reward: r.reward, nextObservation: r.observation, terminated: r.terminated, truncated: r.truncated, info: r.info, horizon: env.horizon };
      steps.push(played);
      onStep?.(steps.length - 1, played);
      obs = r.observation;
      if (r.terminated || r.truncated) break;
    }
    return { episode: job.episode, steps, final: env.finalMetrics(), duration_s: (performance.now() - t0) / 1000 };
  } finally {
    env.dispose();
    (agent as { dispose?(): void }).dispose?.();
  }
}

/** Messages from an episode worker. */
export type EpisodeWorkerMessage =
  | { type: "step"; index: number; step: PlayedStep }
  | { type: "done"; episode: PlayedEpisode }
  | { type: "error"; error: string };

/** Play one job on a new worker thread of this process (its own wasm backend). */
export function playEpisodeInThread(job: FrozenEpisodeJob, onStep?: (index: number, step: PlayedStep) => void): Promise<PlayedEpisode> {
  return new Promise<PlayedEpisode>((resolve, reject) => {
    const w = new Worker(new URL("../core/worker-bootstrap.mjs", import.meta.url), {
      workerData: { module: new URL("./episode-worker.ts", import.meta.url).href, job },
    });
    let settled = false;
    w.on("message", (m: EpisodeWorkerMessage) => {
      if (m.type === "step") {
        onStep?.(m.index, m.step);
        return;
      }
      settled = true;
      void w.terminate();
      if (m.type === "error") reject(new Error(`episode ${job.episode} failed in a worker: ${m.error}`));
      else resolve(m.episode);
    });
    w.once("error", (err) => {
      settled = true;
      reject(err);
    });
    w.once("exit", (code) => {
      if (!settled) reject(new Error(`the thread of episode ${job.episode} exited (code ${code}) before reporting a result`));
    });
  });
}

/**
 * Where the episodes of a round are played. Results come back in job order; `onStep(job index,
 * step index, step)` may be called as steps are played, at most once per step, or not at all.
 */
export interface EpisodeExecutor {
  /** For the run's log: e.g. "2 worker threads". */
  readonly describe: string;
  play(jobs: FrozenEpisodeJob[], onStep?: (job: number, index: number, step: PlayedStep) => void): Promise<PlayedEpisode[]>;
  close?(): Promise<void>;
}

/**
 * Play jobs on up to `workers` worker threads of this process (in-process, one after the other,
 * when workers <= 1, with the caller's helper threads in `deps`).
 */
export function threadExecutor(workers: number, deps: EnvDeps = {}): EpisodeExecutor {
  return {
    describe: workers <= 1 ? "this thread" : `${workers} worker threads`,
    play: async (jobs, onStep) => {
      if (workers <= 1) {
        const out: PlayedEpisode[] = [];
        for (const [j, job] of jobs.entries()) out.push(await playFrozenEpisode(job, (i, s) => onStep?.(j, i, s), deps));
        return out;
      }
      const results: PlayedEpisode[] = new Array(jobs.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(workers, jobs.length) }, async () => {
          while (next < jobs.length) {
            const j = next++;
            results[j] = await playEpisodeInThread(jobs[j]!, (i, s) => onStep?.(j, i, s));
          }
        }),
      );
      return results;
    },
  };
}

/** Play `jobs` with `executor`; results in job order. */
export function playRound(jobs: FrozenEpisodeJob[], executor: EpisodeExecutor, onStep?: (job: number, index: number, step: PlayedStep) => void): Promise<PlayedEpisode[]> {
  return executor.play(jobs, onStep);
}

/**
 * One round of `episodes` played in parallel from the agent's current (frozen) policy, then
 * observed, learned from and recorded in episode order.
 */
export async function playParallelRound(session: RunSession, episodes: number[], executor: EpisodeExecutor): Promise<void> {
  const { config, agent } = session;
  const shared = agent.save();
  const jobs = episodes.map((ep) => ({
    env: config.env, agent: config.agent, agentState: episodeAgentState(shared, config.seed, ep, agent.episodeGroup ?? 1), backend: config.backend.name,
    episode: ep, seed: session.episodeSeed(ep),
  }));
  // Time stamps of the steps streamed live (rows are built, and sent to the monitor, as they are played).
  const liveWall = jobs.map(() => [] as number[]);
  const played = await playRound(jobs, executor, (j, i, st) => {
    const wall = session.wallMs();
    liveWall[j]![i] = wall;
    session.live?.onStep?.(session.stepRow(jobs[j]!.episode, i, Float32Array.from(st.observation), st.action, st.reward, st.info, wall));
  });
  for (const [j, pe] of played.entries()) {
    let ret = 0;
    for (const [k, st] of pe.steps.entries()) {
      agent.observe(st);
      const learner = await agent.update();
      ret += st.reward;
      // The recorded row comes from the episode's result; a step not streamed live goes to the monitor now.
      const wall = liveWall[j]![k];
      const row = session.stepRow(pe.episode, k, Float32Array.from(st.observation), st.action, st.reward, st.info, wall ?? session.wallMs());
      session.recordStep(row, st.info, ret, learner, st.horizon, session.live !== undefined && wall !== undefined);
      session.recordUpdate(pe.episode, k + 1, learner);
    }
    session.recordEpisode(pe.episode, pe.steps.length, ret, pe.final, pe.duration_s);
  }
}
