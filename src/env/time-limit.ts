/**
 * `TimeLimit`: ends an episode `truncated` after a number of steps, as Gymnasium's wrapper does.
 *
 * The budget is not part of an env's dynamics (a training run could always go on), so it lives
 * here: the env counts steps and uses its `horizon` for its progress feature, the wrapper decides
 * where the episode is cut. Every other member passes through.
 */
import type { Env, EnvAction, EpisodeMetrics, ResetResult, StepResult } from "./types.ts";

export class TimeLimit<State = unknown> implements Env<State> {
  readonly maxEpisodeSteps: number;

  /** @param maxEpisodeSteps steps before `truncated`; default the env's `horizon`. */
  constructor(readonly env: Env<State>, maxEpisodeSteps?: number) {
    const max = maxEpisodeSteps ?? env.horizon;
    if (!(Number.isSafeInteger(max) && max >= 1)) throw new RangeError(`TimeLimit: \`maxEpisodeSteps\` must be an integer >= 1, got ${max}`);
    this.maxEpisodeSteps = max;
  }

  get kind(): string {
    return this.env.kind;
  }
  get version(): number {
    return this.env.version;
  }
  get actionSpace() {
    return this.env.actionSpace;
  }
  get observationDim(): number {
    return this.env.observationDim;
  }
  get horizon(): number {
    return this.env.horizon;
  }
  get stepMetrics(): readonly string[] {
    return this.env.stepMetrics;
  }
  get episodeMetrics(): readonly string[] {
    return this.env.episodeMetrics;
  }
  get steps(): number {
    return this.env.steps;
  }
  describe(): string {
    return this.env.describe();
  }

  reset(options: { seed: number | string }): ResetResult {
    return this.env.reset(options);
  }

  async step(action: EnvAction): Promise<StepResult> {
    if (this.env.steps >= this.maxEpisodeSteps) {
      throw new Error(`TimeLimit: the episode ended after ${this.maxEpisodeSteps} steps (truncated); call reset({ seed }) before stepping again`);
    }
    const result = await this.env.step(action);
    if (!result.terminated && this.env.steps >= this.maxEpisodeSteps) result.truncated = true;
    return result;
  }

  finalMetrics(): EpisodeMetrics {
    return this.env.finalMetrics();
  }
  getState(): State {
    return this.env.getState();
  }
  setState(state: State): Float32Array {
    return this.env.setState(state);
  }
  dispose(): void {
    this.env.dispose();
  }
}
