/**
 * The run's event log as the monitor streams it: every step, episode and end event, each
 * serialised once when published and shared by all connections.
 *
 * Connections read it through their own cursor, so publishing is one array push regardless of
 * how many clients there are or how slow they are.
 */
import type { RunSummary } from "../record/hooks.ts";
import type { EpisodeRow, StepRow, UpdateRow } from "../record/schema.ts";

/** One published event. */
export interface LogEntry {
  kind: "step" | "episode" | "update" | "end";
  /** Recorded run time in ms (a step's `wall_ms`; episodes and the end inherit the previous step's). */
  wall: number;
  /** JSON of the message after `"dropped":<n>` — the per-connection prefix is prepended at send time. */
  tail: string;
}

/** Append-only event log with a bounded length (oldest half dropped when full). */
export class EventLog {
  /** Index of `entries[0]` in the full event sequence. */
  base = 0;
  entries: LogEntry[] = [];
  private lastWall = 0;

  /** @param maxEntries entries kept before the oldest half is dropped. Default 1_000_000. */
  constructor(readonly maxEntries = 1_000_000) {}

  /** Index one past the last event. */
  get end(): number {
    return this.base + this.entries.length;
  }

  at(index: number): LogEntry | undefined {
    return this.entries[index - this.base];
  }

  addStep(row: StepRow): void {
    this.lastWall = row.wall_ms;
    this.push("step", JSON.stringify(row));
  }

  addEpisode(row: EpisodeRow): void {
    this.push("episode", JSON.stringify(row));
  }

  addUpdate(rows: UpdateRow[]): void {
    this.push("update", JSON.stringify(rows));
  }

  addEnd(summary: RunSummary): void {
    this.push("end", JSON.stringify(summary));
  }

  /** Forget everything (a new run starts in the same server). */
  clear(): void {
    this.base = this.end;
    this.entries = [];
    this.lastWall = 0;
  }

  private push(kind: LogEntry["kind"], payload: string): void {
    const seq = this.end;
    const key = kind === "end" ? "summary" : kind === "update" ? "rows" : "row";
    this.entries.push({ kind, wall: this.lastWall, tail: `,"seq":${seq},"${key}":${payload}}` });
    if (this.entries.length > this.maxEntries) {
      const cut = Math.floor(this.maxEntries / 2);
      this.entries = this.entries.slice(cut);
      this.base += cut;
    }
  }
}

/** The full JSON text of `entry` for a connection that has dropped `dropped` step events. */
export function renderEntry(entry: LogEntry, dropped: number): string {
  return `{"type":"${entry.kind}","dropped":${dropped}${entry.tail}`;
}
