/**
 * `schedule`: replays a learned augmentation schedule, as exported by `rl-train export-policy`
 * from a run's step log. Training progress (observation[0] ∈ [0,1]) picks the phase; the phase
 * gives a distribution over ops and, per op, over magnitudes. Each slot draws independently.
 *
 * ```json
 * { "agent": "schedule", "schedule": { "phases": [
 *   { "until": 0.25, "ops": [ { "op": "crop", "prob": 0.4, "magnitudes": { "0.1": 0.5, "0.3": 0.5 } },
 *                             { "op": "identity", "prob": 0.6, "magnitudes": { "0": 1 } } ] },
 *   { "until": 1, "ops": [ … ] } ] } }
 * ```
 *
 * Phase i covers progress in [until(i-1), until(i)); the last phase also covers anything after.
 * Magnitudes are applied exactly as written (the action reports the nearest bin); identity
 * always gets magnitude 0.
 */
import type { Rng } from "../core/rng.ts";
import { nearestBin, opIndex } from "./space.ts";
import { StatelessAgent } from "./stateless.ts";
import type { Action, ActionSpace } from "./types.ts";

export interface ScheduleOp {
  op: string;
  /** Probability of this op within the phase; a phase's probs sum to 1. */
  prob: number;
  /** Magnitude value (as a decimal string) → probability; sums to 1 (may be empty for identity). */
  magnitudes: Record<string, number>;
}

export interface SchedulePhase {
  /** Upper end of the phase in training progress, in (0,1]; strictly increasing across phases. */
  until: number;
  ops: ScheduleOp[];
}

export interface Schedule {
  phases: SchedulePhase[];
}

export interface ScheduleConfig {
  /** The schedule to replay (required; no default). */
  schedule: Schedule;
}

/** Tolerance on probability sums (exports round-trip through JSON and float32 logs). */
const SUM_TOLERANCE = 1e-3;

/** A phase compiled against the action space: op indices, op weights, and per-op magnitude tables. */
interface CompiledPhase {
  until: number;
  ops: number[];
  probs: number[];
  magnitudes: Array<{ values: number[]; probs: number[] }>;
}

export class ScheduleAgent extends StatelessAgent<ScheduleConfig> {
  readonly name = "schedule";
  private readonly phases: CompiledPhase[];

  constructor(config: ScheduleConfig, space: ActionSpace, obsDim: number, rng: Rng) {
    super(config, space, obsDim, rng);
    this.phases = compileSchedule(config.schedule, space);
  }

  protected choose(observation: Float32Array): Action {
    const progress = observation[0]!;
    const phase = this.phases.find((p) => progress < p.until) ?? this.phases[this.phases.length - 1]!;
    const ops: number[] = [];
    const bins: number[] = [];
    const magnitudes: number[] = [];
    for (let s = 0; s < this.space.slots; s++) {
      const k = this.rng.categorical(phase.probs);
      const op = phase.ops[k]!;
      const table = phase.magnitudes[k]!;
      const magnitude = op === 0 || table.values.length === 0 ? 0 : table.values[this.rng.categorical(table.probs)]!;
      ops.push(op);
      bins.push(nearestBin(this.space, magnitude));
      magnitudes.push(magnitude);
    }
    return { ops, bins, magnitudes };
  }
}

/** Checks a schedule against the action space (ops known, probabilities, ranges) and indexes it. */
export function compileSchedule(schedule: Schedule, space: ActionSpace): CompiledPhase[] {
  const where = (i: number, rest = "") => `schedule.phases[${i}]${rest}`;
  if (!schedule || !Array.isArray(schedule.phases) || schedule.phases.length === 0) {
    throw new Error("schedule: `schedule.phases` must be a non-empty array; export one with `rl-train export-policy`");
  }
  let previous = 0;
  return schedule.phases.map((phase, i) => {
    if (!(phase.until > previous && phase.until <= 1)) {
      throw new Error(`schedule: \`${where(i, ".until")}\` must be in (${previous}, 1] (strictly increasing), got ${phase.until}`);
    }
    previous = phase.until;
    if (phase.ops.length === 0) throw new Error(`schedule: \`${where(i, ".ops")}\` is empty; give at least one op (e.g. identity with prob 1)`);
    const probSum = phase.ops.reduce((a, o) => a + o.prob, 0);
    if (Math.abs(probSum - 1) > SUM_TOLERANCE) {
      throw new Error(`schedule: the probs in \`${where(i, ".ops")}\` sum to ${probSum}, expected 1`);
    }
    const magnitudes = phase.ops.map((o, j) => {
      const entries = Object.entries(o.magnitudes);
      const values = entries.map(([key]) => {
        const m = Number(key);
        if (key.trim() === "" || !(m >= 0 && m <= 1)) {
          throw new Error(`schedule: \`${where(i, `.ops[${j}].magnitudes`)}\` key ${JSON.stringify(key)} must be a magnitude in [0,1]`);
        }
        return m;
      });
      const probs = entries.map(([, p]) => p);
      const sum = probs.reduce((a, p) => a + p, 0);
      if (values.length > 0 && Math.abs(sum - 1) > SUM_TOLERANCE) {
        throw new Error(`schedule: \`${where(i, `.ops[${j}].magnitudes`)}\` probabilities sum to ${sum}, expected 1`);
      }
      if (values.length === 0 && o.op !== "identity") {
        throw new Error(`schedule: \`${where(i, `.ops[${j}].magnitudes`)}\` is empty for op ${JSON.stringify(o.op)}; give at least one magnitude`);
      }
      return { values, probs };
    });
    return {
      until: phase.until,
      ops: phase.ops.map((o, j) => opIndex(space, o.op, where(i, `.ops[${j}].op`))),
      probs: phase.ops.map((o) => o.prob),
      magnitudes,
    };
  });
}

/** One applied op from a run's step log. */
export interface ScheduleRow {
  /** Training progress in [0,1] when the op was applied. */
  progress: number;
  op: string;
  magnitude: number;
}

/**
 * Builds a schedule from logged steps: `numPhases` equal-width progress phases; in each, op
 * probabilities are the op frequencies and magnitude probabilities the per-op magnitude
 * frequencies. A phase with no rows copies the nearest earlier phase (or the first later one).
 * Ops are listed by descending probability, then name, so the output is deterministic.
 */
export function scheduleFromSteps(rows: ReadonlyArray<ScheduleRow>, numPhases: number): Schedule {
  if (!Number.isInteger(numPhases) || numPhases < 1) throw new Error(`scheduleFromSteps: \`numPhases\` must be an integer ≥ 1, got ${numPhases}`);
  if (rows.length === 0) throw new Error("scheduleFromSteps: `rows` is empty; the run has no logged steps to build a schedule from");
  const counts = Array.from({ length: numPhases }, () => new Map<string, Map<string, number>>());
  for (const [r, row] of rows.entries()) {
    if (!(row.progress >= 0 && row.progress <= 1)) throw new Error(`scheduleFromSteps: \`rows[${r}].progress\` must be in [0,1], got ${row.progress}`);
    if (!(row.magnitude >= 0 && row.magnitude <= 1)) throw new Error(`scheduleFromSteps: \`rows[${r}].magnitude\` must be in [0,1], got ${row.magnitude}`);
    const phase = counts[Math.min(Math.floor(row.progress * numPhases), numPhases - 1)]!;
    const key = magnitudeKey(row.op === "identity" ? 0 : row.magnitude);
    const perOp = phase.get(row.op) ?? new Map<string, number>();
    perOp.set(key, (perOp.get(key) ?? 0) + 1);
    phase.set(row.op, perOp);
  }
  const built: Array<ScheduleOp[] | undefined> = counts.map((phase) => {
    if (phase.size === 0) return undefined;
    const total = [...phase.values()].reduce((a, m) => a + sum(m.values()), 0);
    return [...phase.entries()]
      .map(([op, mags]) => {
        const n = sum(mags.values());
        const magnitudes = Object.fromEntries([...mags.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([k, c]) => [k, c / n]));
        return { op, prob: n / total, magnitudes };
      })
      .sort((a, b) => b.prob - a.prob || (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));
  });
  return {
    phases: built.map((ops, i) => {
      let filled = ops;
      for (let j = i - 1; !filled && j >= 0; j--) filled = built[j];
      for (let j = i + 1; !filled && j < numPhases; j++) filled = built[j];
      return { until: (i + 1) / numPhases, ops: structuredClone(filled!) };
    }),
  };
}

/** A stable key for a magnitude read back from a float32 log: 0.30000001192092896 → "0.3". */
function magnitudeKey(m: number): string {
  return String(Number(m.toPrecision(6)));
}

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
