/**
 * Parallel episodes that share one policy (OHL-AutoAug's parallel trajectories).
 *
 * A round of P episodes starts from the same agent state; each episode acts with a *frozen*
 * copy of the policy and its own agent stream derived from the run seed and the episode index,
 * in its own worker thread (each with its own wasm backend, so one per core). After the round
 * the shared agent observes every transition in episode order and updates. The results depend
 * on P (`--parallel-episodes`) and the seed, never on the number of workers N: a worker only
 * decides *where* an episode runs.
 */
import { Worker } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { createAgent, type AgentState, type Transition } from "../agents/index.ts";
import { AugmentEnv, loadSpecData, type ResolvedEnvSpec, type StepInfo } from "../env/index.ts";
import type { ResolvedAgentSpec } from "../agents/index.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";

export interface FrozenEpisodeJob {
  env: ResolvedEnvSpec;
  agent: ResolvedAgentSpec;
  agentState: AgentState;
  backend: BackendName;
  episode: number;
  seed: string;
}

/** A transition as the agent will observe it, plus what the recorder needs. */
export interface PlayedStep extends Transition {
  info: StepInfo;
}

export interface PlayedEpisode {
  episode: number;
  steps: PlayedStep[];
  final: { valid: Record<string, number>; test: Record<string, number> };
  duration_s: number;
}

/** The agent state a round's episode starts from: the shared state with the episode's own stream. */
export function episodeAgentState(shared: AgentState, runSeed: number, episode: number): AgentState {
  return { ...shared, rng: new Rng(runSeed).child("agent").child(`episode-${episode}`).state() };
}

/** Play one episode with a frozen policy (no updates). Runs in a worker or in-process. */
export async function playFrozenEpisode(job: FrozenEpisodeJob): Promise<PlayedEpisode> {
  await selectBackend(job.backend, null);
  const { split } = loadSpecData(job.env);
  const env = new AugmentEnv(job.env, split);
  const agent = createAgent(job.agent, env.actionSpace, env.observationDim, new Rng(0));
  agent.load(job.agentState);
  const t0 = performance.now();
  const steps: PlayedStep[] = [];
  let obs = env.reset(job.seed);
  try {
    for (;;) {
      const action = agent.act(obs);
      const r = await env.step(action);
      steps.push({ observation: obs, action, reward: r.reward, nextObservation: r.observation, terminated: r.terminated, truncated: r.truncated, info: r.info });
      obs = r.observation;
      if (r.terminated || r.truncated) break;
    }
    return { episode: job.episode, steps, final: env.finalMetrics(), duration_s: (performance.now() - t0) / 1000 };
  } finally {
    env.dispose();
    (agent as { dispose?(): void }).dispose?.();
  }
}

/** Play `jobs` on up to `workers` worker threads (in-process when workers <= 1); results in job order. */
export async function playRound(jobs: FrozenEpisodeJob[], workers: number): Promise<PlayedEpisode[]> {
  if (workers <= 1) {
    const out: PlayedEpisode[] = [];
    for (const j of jobs) out.push(await playFrozenEpisode(j));
    return out;
  }
  const results: PlayedEpisode[] = new Array(jobs.length);
  let next = 0;
  const runOne = (job: FrozenEpisodeJob) =>
    new Promise<PlayedEpisode>((resolve, reject) => {
      const w = new Worker(new URL("../core/worker-bootstrap.mjs", import.meta.url), {
        workerData: { module: new URL("./episode-worker.ts", import.meta.url).href, job },
      });
      w.once("message", (m: PlayedEpisode | { error: string }) => {
        void w.terminate();
        if ("error" in m) reject(new Error(`episode ${job.episode} failed in a worker: ${m.error}`));
        else resolve(m);
      });
      w.once("error", reject);
    });
  await Promise.all(
    Array.from({ length: Math.min(workers, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await runOne(jobs[i]!);
      }
    }),
  );
  return results;
}
