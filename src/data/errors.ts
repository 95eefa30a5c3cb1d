/**
 * Bad-input handling shared by every loader.
 *
 * A loader either stops at the first bad row with a `DataError` naming `file:line` (the default,
 * so a broken file is never half-used silently) or, with `onBadRow: "skip"`, drops the row and
 * counts it by kind so the caller can print what was dropped.
 */

/** What a loader does with a row it cannot use. Default everywhere: `"error"`. */
export type BadRowPolicy = "error" | "skip";

/** Every kind of bad row a loader can report; the keys of `LoadReport.skippedByKind`. */
export type BadRowKind =
  | "empty-line"
  | "not-an-integer"
  | "out-of-range"
  | "duplicate-user"
  | "duplicate-item"
  | "no-items"
  | "bad-timestamp"
  | "wrong-field-count"
  | "unknown-column"
  | "missing-column"
  | "bad-format"
  | "empty-id"
  | "empty-text"
  | "missing-label"
  | "bad-encoding";

/**
 * Error for unusable input data. `file` and `line` locate the bad row: `line` is 1-based (0 = the
 * whole file); for Arrow input it is the 1-based row number and `unit` is `"row"`.
 */
export class DataError extends Error {
  override readonly name = "DataError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly kind: BadRowKind,
    detail: string,
    fix: string,
    readonly unit: "line" | "row" = "line",
  ) {
    const where = line <= 0 ? "" : unit === "line" ? `:${line}` : ` row ${line}`;
    super(`${file}${where}: ${detail} (${fix})`);
  }
}

/** What a loader read and what it dropped. */
export interface LoadReport {
  /** File the report is about. */
  file: string;
  /** Data rows read (lines or Arrow rows), header excluded. */
  rows: number;
  /** Rows dropped under `onBadRow: "skip"`. */
  skipped: number;
  /** `skipped`, by kind. */
  skippedByKind: Partial<Record<BadRowKind, number>>;
  /** The first few skip messages, to show the user what kind of damage the file has. */
  examples: string[];
  /** Users/interactions removed by filters (k-core, leave-one-out eligibility), if any. */
  filtered?: { users: number; items: number; interactions: number };
}

const MAX_EXAMPLES = 5;

/** Collects bad rows for one file and applies the policy. */
export class BadRows {
  readonly report: LoadReport;
  constructor(
    readonly file: string,
    readonly policy: BadRowPolicy = "error",
    readonly unit: "line" | "row" = "line",
  ) {
    if (policy !== "error" && policy !== "skip") {
      throw new RangeError(`\`onBadRow\` must be "error" or "skip", got ${JSON.stringify(policy)}`);
    }
    this.report = { file, rows: 0, skipped: 0, skippedByKind: {}, examples: [] };
  }

  /**
   * Record a bad row: throws under `"error"`, counts it under `"skip"`.
   * `fix` is what the user should do; the skip hint is appended here so every message offers it.
   */
  bad(line: number, kind: BadRowKind, detail: string, fix: string): void {
    const err = new DataError(this.file, line, kind, detail, `${fix} or pass --on-bad-row skip`, this.unit);
    if (this.policy === "error") throw err;
    this.report.skipped++;
    this.report.skippedByKind[kind] = (this.report.skippedByKind[kind] ?? 0) + 1;
    if (this.report.examples.length < MAX_EXAMPLES) this.report.examples.push(err.message);
  }
}

/** Largest id an Int32Array can hold; ids above it would wrap silently. */
export const MAX_ID = 2 ** 31 - 2;

const POSITIVE_INT = /^[1-9][0-9]*$/;

/** Parse a positive integer id, or return -1 if the token is not one (or too large for Int32). */
export function parsePositiveId(token: string): number {
  if (!POSITIVE_INT.test(token) || token.length > 10) return -1;
  const v = Number(token);
  return v <= MAX_ID ? v : -1;
}

import type { SeqDataset } from "./types.ts";

/** A dataset as returned by a loader: the `SeqDataset` plus what was read and dropped. */
export type LoadedDataset = SeqDataset & { report: LoadReport };
