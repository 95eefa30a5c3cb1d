/**
 * Paired branches (`rl.branches.count` = K ≥ 2): learning an augmentation policy from K training
 * trajectories that start from the same state, after OHL-AutoAug (Lin et al., ICCV 2019).
 *
 * An episode is cut into stages of `rl.branches.stageSteps` env steps. At every stage:
 * 1. K copies of the env (model weights, Adam moments, random streams, data cursor) start from
 *    the same state and train on the same batches; each samples its actions from the current
 *    policy, frozen for the stage, with its own agent stream (episode, stage, branch), so the
 *    branches differ only in the actions taken;
 * 2. each branch's stage reward is the sum of its step rewards (a delta reward sums to the
 *    change of the reward metric on the same reward users over the stage);
 * 3. the agent observes every branch's transitions with the reward *relative to the mean of the
 *    K stage rewards*, paid at the stage's last step, which ends the transition (`terminated`:
 *    each stage is one decision problem); then it updates on its own schedule;
 * 4. the branch with the highest stage reward (the lowest index on ties) is kept: its state is
 *    where every branch starts the next stage. The run's model is the final best branch.
 *
 * Branches run on worker threads (one wasm backend each, one per core) or, with one worker, one
 * after the other on the run's own env; the results never depend on which (tested). Every
 * branch step is recorded in steps.arrows with its `branch` column; rewards are recorded as
 * the env paid them (not centred).
 */
import { Worker } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { createAgent, type Agent, type AgentState, type ResolvedAgentSpec } from "../agents/index.ts";
import { createEnv, type AnyEnvSpec, type Env } from "../env/index.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";
import type { PlayedStep } from "./parallel.ts";
import type { RunSession } from "./session.ts";

/** Branch settings as the env spec gives them (`rl.branches`). */
export interface BranchSettings {
  /** Branches per stage; 1 = no branching. */
  count: number;
  /** Env steps per stage. */
  stageSteps: number;
}

/** One branch's share of a stage. */
export interface BranchStageJob {
  branch: number;
  /** Env state the stage starts from (the same for every branch). */
  start: unknown;
  /** The frozen policy with this branch's own stream. */
  agentState: AgentState;
  steps: number;
}

export interface BranchStageResult {
  branch: number;
  steps: PlayedStep[];
  /** Sum of the stage's step rewards. */
  reward: number;
  /** Env state after the stage (where the next stage starts if this branch is kept). */
  end: unknown;
}

/** Runs the branches of a stage somewhere; results in branch order, never depending on where. */
export interface BranchRunner {
  stage(jobs: BranchStageJob[], onStep?: (branch: number, index: number, step: PlayedStep) => void): Promise<BranchStageResult[]>;
  close(): Promise<void>;
}

/** The agent state a branch plays a stage with: the shared policy, the branch's own stream. */
export function branchAgentState(shared: AgentState, runSeed: number, episode: number, stage: number, branch: number): AgentState {
  return { ...shared, rng: new Rng(runSeed).child("agent").child(`episode-${episode}`).child(`stage-${stage}`).child(`branch-${branch}`).state() };
}

/** Play `job` on `env` with a frozen copy of the agent kind `agentSpec`. */
export async function playBranchStage(env: Env, agentSpec: ResolvedAgentSpec, job: BranchStageJob, onStep?: (index: number, step: PlayedStep) => void): Promise<BranchStageResult> {
  const agent = createAgent(agentSpec, env.actionSpace, env.observationDim, new Rng(0));
  agent.load(job.agentState);
  try {
    let obs = env.setState(job.start);
    const steps: PlayedStep[] = [];
    let reward = 0;
    for (let i = 0; i < job.steps; i++) {
      const action = agent.act(obs);
      const r = await env.step(action);
      const played: PlayedStep = { observation: obs, action, reward: r.reward, nextObservation: r.observation, terminated: r.terminated, truncated: r.truncated, info: r.info, horizon: env.horizon };
      steps.push(played);
      onStep?.(i, played);
      reward += r.reward;
      obs = r.observation;
      if (r.terminated || r.truncated) break;
    }
    return { branch: job.branch, steps, reward, end: env.getState() };
  } finally {
    (agent as { dispose?(): void }).dispose?.();
  }
}

/** Branches one after the other on one env (the run's own). */
export function inProcessBranchRunner(env: Env, agentSpec: ResolvedAgentSpec): BranchRunner {
  return {
    async stage(jobs, onStep) {
      const out: BranchStageResult[] = [];
      for (const job of jobs) out.push(await playBranchStage(env, agentSpec, job, (i, s) => onStep?.(job.branch, i, s)));
      return out;
    },
    close: async () => undefined,
  };
}

/** Messages between the run and a branch worker. */
export type BranchWorkerRequest = { type: "stage"; job: BranchStageJob };
export type BranchWorkerReply =
  | { type: "ready" }
  | { type: "step"; branch: number; index: number; step: PlayedStep }
  | { type: "done"; result: BranchStageResult }
  | { type: "error"; error: string };

/** What a branch worker is started with. */
export interface BranchWorkerInit {
  env: AnyEnvSpec;
  agent: ResolvedAgentSpec;
  backend: BackendName;
}

/** Build a branch worker's env (its own backend, no helper threads: the branches fill the cores). */
export async function branchWorkerEnv(init: BranchWorkerInit): Promise<Env> {
  await selectBackend(init.backend, null);
  return createEnv(init.env);
}

/**
 * `workers` long-lived worker threads, each with its own env; a stage's jobs are spread over
 * them (a worker plays its jobs one after the other). Every job carries its start state, so a
 * worker holds no state between jobs that could make results depend on the assignment.
 */
export async function threadBranchRunner(init: BranchWorkerInit, workers: number): Promise<BranchRunner> {
  const pool = await Promise.all(
    Array.from({ length: workers }, () =>
      new Promise<Worker>((resolve, reject) => {
        const w = new Worker(new URL("../core/worker-bootstrap.mjs", import.meta.url), {
          workerData: { module: new URL("./branch-worker.ts", import.meta.url).href, init },
        });
        w.once("message", (m: BranchWorkerReply) => (m.type === "ready" ? resolve(w) : reject(new Error(`a branch worker failed to start: ${m.type === "error" ? m.error : m.type}`))));
        w.once("error", reject);
      }),
    ),
  );
  const run = (w: Worker, job: BranchStageJob, onStep?: (branch: number, index: number, step: PlayedStep) => void) =>
    new Promise<BranchStageResult>((resolve, reject) => {
      const onMessage = (m: BranchWorkerReply) => {
        if (m.type === "step") return onStep?.(m.branch, m.index, m.step);
        w.off("message", onMessage);
        w.off("error", onError);
        if (m.type === "done") resolve(m.result);
        else reject(new Error(`branch ${job.branch} failed in a worker: ${m.type === "error" ? m.error : m.type}`));
      };
      const onError = (err: Error) => {
        w.off("message", onMessage);
        reject(err);
      };
      w.on("message", onMessage);
      w.once("error", onError);
      w.postMessage({ type: "stage", job } satisfies BranchWorkerRequest);
    });
  return {
    async stage(jobs, onStep) {
      const results: BranchStageResult[] = new Array(jobs.length);
      let next = 0;
      await Promise.all(
        pool.map(async (w) => {
          while (next < jobs.length) {
            const i = next++;
            results[i] = await run(w, jobs[i]!, onStep);
          }
        }),
      );
      return results;
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}

/** Where a resumed branched episode continues: the state at a stage boundary. */
export interface BranchResume {
  env: unknown;
  episodeReturn: number;
  episodeStartedMs: number;
}

/** Play episode `ep` in paired-branch stages and record it (see the file header). */
export async function playBranchedEpisode(session: RunSession, ep: number, settings: BranchSettings, runner: BranchRunner, resume?: BranchResume): Promise<void> {
  const { env, agent, config } = session;
  const started = performance.now() - (resume?.episodeStartedMs ?? 0);
  let episodeReturn = resume?.episodeReturn ?? 0;
  if (resume) env.setState(resume.env);
  else env.reset({ seed: session.episodeSeed(ep) });
  let start = env.getState();
  let done = env.steps;
  for (let stage = Math.floor(done / settings.stageSteps); done < env.horizon && !session.result.stopped; stage++) {
    const steps = Math.min(settings.stageSteps, env.horizon - done);
    const shared = agent.save();
    const jobs: BranchStageJob[] = Array.from({ length: settings.count }, (_, k) => ({
      branch: k, start, agentState: branchAgentState(shared, config.seed, ep, stage, k), steps,
    }));
    // Rows are built when a step is played (streamed live) and recorded after the stage.
    const rows = jobs.map(() => [] as ReturnType<RunSession["stepRow"]>[]);
    const results = await runner.stage(jobs, (k, i, st) => {
      const row = session.stepRow(ep, done + i, Float32Array.from(st.observation), st.action, st.reward, st.info, session.wallMs(), k);
      rows[k]![i] = row;
      session.live?.onStep?.(row);
    });
    const meanReward = results.reduce((s, r) => s + r.reward, 0) / results.length;
    let best = 0;
    for (const r of results) if (r.reward > results[best]!.reward) best = r.branch;
    learnFromStage(agent, results, meanReward);
    const learner = await agent.update();
    for (const r of results) {
      let ret = episodeReturn;
      for (const [i, st] of r.steps.entries()) {
        ret += st.reward;
        session.recordStep(rows[r.branch]![i]!, st.info, ret, learner, env.horizon, session.live !== undefined);
      }
    }
    session.recordUpdate(ep, done + steps, learner);
    episodeReturn += results[best]!.reward;
    start = results[best]!.end;
    const before = done;
    done += results[best]!.steps.length;
    if (results[best]!.steps.length === 0) break;
    if (done < env.horizon && config.checkpointEvery > 0 && Math.floor(done / config.checkpointEvery) > Math.floor(before / config.checkpointEvery)) {
      session.checkpoint(ep, start, episodeReturn, performance.now() - started);
    }
  }
  // The run's model is the last kept branch.
  env.setState(start);
  session.recordEpisode(ep, done, episodeReturn, env.finalMetrics(), (performance.now() - started) / 1000);
}

/** The agent sees each branch's stage as one decision: reward relative to the branches' mean, at the stage's end. */
function learnFromStage(agent: Agent, results: BranchStageResult[], meanReward: number): void {
  for (const r of results) {
    r.steps.forEach((st, i) => {
      const last = i === r.steps.length - 1;
      agent.observe({ ...st, reward: last ? r.reward - meanReward : 0, terminated: last, truncated: false });
    });
  }
}
