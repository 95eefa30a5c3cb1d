/**
 * Progress output of `rl-train run`: a cli-progress bar on an interactive terminal, otherwise a
 * line every 10 % of an episode (what a log file wants). Knows nothing of envs or agents: it is
 * handed the numbers after each step.
 */
import cliProgress from "cli-progress";
import type { StepInfo } from "../env/index.ts";

export class ProgressReporter {
  private bar: cliProgress.SingleBar | undefined;
  private mix = new Map<string, number>();

  /**
   * @param log where lines go (null: quiet)
   * @param useBar draw a bar on stderr instead of lines
   * @param metric the reward metric's name, shown when a step evaluated it
   */
  constructor(
    private readonly log: ((line: string) => void) | null,
    private readonly useBar: boolean,
    private readonly metric: string,
  ) {}

  /** After step `step` (1-based) of `maxSteps` in episode `ep`; `ret` is the return so far. */
  step(ep: number, step: number, maxSteps: number, info: StepInfo, ret: number, learner: Record<string, number>, branch?: number): void {
    if (step === 1) this.mix.clear();
    const label = info.ops.join("+") || "none";
    this.mix.set(label, (this.mix.get(label) ?? 0) + 1);
    const ops = [...this.mix].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${Math.round((100 * v) / step)}%`).join(", ");
    const metric = info.valid?.[this.metric];
    const where = branch === undefined ? `ep ${ep}` : `ep ${ep} branch ${branch}`;
    if (this.useBar) {
      if (step === 1) {
        this.bar?.stop();
        this.bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: "{where} [{bar}] {value}/{total} steps | reward {ret} | {metric} | ops: {ops}", hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(maxSteps, 0, { where, ret: "0", metric: "", ops: "" });
      }
      this.bar?.update(step, { where, ret: ret.toFixed(3), metric: metric === undefined ? "" : `valid ${this.metric} ${metric.toFixed(4)}`, ops });
      if (step === maxSteps) this.stop();
      return;
    }
    if (step % Math.max(1, Math.floor(maxSteps / 10)) !== 0 && step !== maxSteps) return;
    const stats = Object.entries(learner).slice(0, 2).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(" ");
    this.log?.(
      `[augrl] ${where} step ${step}/${maxSteps} loss ${info.trainLoss.toFixed(4)} return ${ret.toFixed(3)}` +
        (metric === undefined ? "" : ` valid ${this.metric} ${metric.toFixed(4)}`) + ` | ops: ${ops}` + (stats ? ` | ${stats}` : ""),
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
