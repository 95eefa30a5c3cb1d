/**
 * Playing one episode with online learning (the default mode of `rl-train run`):
 * act → step → observe → update → record, every step, until the `TimeLimit` ends the episode.
 */
import type { RunSession } from "./session.ts";

/** Where a resumed episode continues. */
export interface EpisodeResume {
  env: unknown;
  episodeReturn: number;
  episodeStartedMs: number;
}

/** Play episode `ep` to its end (or until a hook asks to stop) and record it. */
export async function playEpisode(session: RunSession, ep: number, resume?: EpisodeResume): Promise<void> {
  const { env, agent, config } = session;
  let episodeReturn = resume?.episodeReturn ?? 0;
  const started = performance.now() - (resume?.episodeStartedMs ?? 0);
  let obs = resume ? env.setState(resume.env) : env.reset({ seed: session.episodeSeed(ep) }).observation;
  for (;;) {
    const action = agent.act(obs);
    const res = await env.step(action);
    agent.observe({ observation: obs, action, reward: res.reward, nextObservation: res.observation, terminated: res.terminated, truncated: res.truncated });
    const step = env.steps - 1;
    const learner = await agent.update();
    episodeReturn += res.reward;
    session.recordStep(session.stepRow(ep, step, obs, action, res.reward, res.info, session.wallMs()), res.info, episodeReturn, learner, env.horizon);
    session.recordUpdate(ep, step + 1, learner);
    obs = res.observation;
    if (res.terminated || res.truncated || session.result.stopped) break;
    if (config.checkpointEvery > 0 && env.steps % config.checkpointEvery === 0) {
      session.checkpoint(ep, env.getState(), episodeReturn, performance.now() - started);
    }
  }
  session.recordEpisode(ep, env.steps, episodeReturn, env.finalMetrics(), (performance.now() - started) / 1000);
}
