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
 * Live monitor: each step is posted to the training thread as soon as it is played and
 * forwarded to the monitor then; the recorder writes the round's rows in episode order when the
 * round ends (so the files never depend on which worker finished first).
 */
import { Worker } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { createAgent, type AgentState, type Transition } from "../agents/index.ts";
import { createEnv, type AnyEnvSpec, type EpisodeMetrics, type StepInfo } from "../env/index.ts";
import type { ResolvedAgentSpec } from "../agents/index.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";
import { episodeSeed, type RunSession } from "./session.ts";

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

/** The agent state a round's episode starts from: the shared state with the episode's own stream. */
export function episodeAgentState(shared: AgentState, runSeed: number, episode: number): AgentState {
  return { ...shared, rng: new Rng(runSeed).child("agent").child(`episode-${episode}`).state() };
}

/** Play one episode with a frozen policy (no updates). Runs in a worker or in-process; `onStep` sees each step as played. */
export async function playFrozenEpisode(job: FrozenEpisodeJob, onStep?: (index: number, step: PlayedStep) => void): Promise<PlayedEpisode> {
  await selectBackend(job.backend, null);
  const env = await createEnv(job.env);
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

/**
 * Play `jobs` on up to `workers` worker threads (in-process when workers <= 1); results in job
 * order. `onStep(job index, step index, step)` is called as each step is played.
 */
export async function playRound(jobs: FrozenEpisodeJob[], workers: number, onStep?: (job: number, index: number, step: PlayedStep) => void): Promise<PlayedEpisode[]> {
  if (workers <= 1) {
    const out: PlayedEpisode[] = [];
    for (const [j, job] of jobs.entries()) out.push(await playFrozenEpisode(job, (i, s) => onStep?.(j, i, s)));
    return out;
  }
  const results: PlayedEpisode[] = new Array(jobs.length);
  let next = 0;
  const runOne = (j: number) =>
    new Promise<PlayedEpisode>((resolve, reject) => {
      const job = jobs[j]!;
      const w = new Worker(new URL("../core/worker-bootstrap.mjs", import.meta.url), {
        workerData: { module: new URL("./episode-worker.ts", import.meta.url).href, job },
      });
      w.on("message", (m: EpisodeWorkerMessage) => {
        if (m.type === "step") {
          onStep?.(j, m.index, m.step);
          return;
        }
        void w.terminate();
        if (m.type === "error") reject(new Error(`episode ${job.episode} failed in a worker: ${m.error}`));
        else resolve(m.episode);
      });
      w.once("error", reject);
    });
  await Promise.all(
    Array.from({ length: Math.min(workers, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await runOne(i);
      }
    }),
  );
  return results;
}

/**
 * One round of `episodes` played in parallel from the agent's current (frozen) policy, then
 * observed, learned from and recorded in episode order.
 */
export async function playParallelRound(session: RunSession, episodes: number[], workers: number): Promise<void> {
  const { config, agent } = session;
  const shared = agent.save();
  const jobs = episodes.map((ep) => ({
    env: config.env, agent: config.agent, agentState: episodeAgentState(shared, config.seed, ep), backend: config.backend.name,
    episode: ep, seed: episodeSeed(config.seed, ep),
  }));
  // Rows are built (and time-stamped) when a step is played, streamed live, and recorded unchanged after the round.
  const rows = jobs.map(() => [] as ReturnType<RunSession["stepRow"]>[]);
  const played = await playRound(jobs, workers, (j, i, st) => {
    const row = session.stepRow(jobs[j]!.episode, i, Float32Array.from(st.observation), st.action, st.reward, st.info, session.wallMs());
    rows[j]![i] = row;
    session.live?.onStep?.(row);
  });
  for (const [j, pe] of played.entries()) {
    let ret = 0;
    for (const [k, st] of pe.steps.entries()) {
      agent.observe(st);
      const learner = await agent.update();
      ret += st.reward;
      session.recordStep(rows[j]![k]!, st.info, ret, learner, st.horizon, session.live !== undefined);
      session.recordUpdate(pe.episode, k + 1, learner);
    }
    session.recordEpisode(pe.episode, pe.steps.length, ret, pe.final, pe.duration_s);
  }
}
