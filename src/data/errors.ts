/**
 * Bad-input handling shared by every loader.
 *
 * A loader either stops at the first bad row with a `DataError` naming `file:line` (the default,
 * so a broken file is never half-used silently) or, with `onBadRow: "skip"`, drops the row and
 * counts it by kind so the caller can print what was dropped.
 */
import { readFileSync } from "node:fs";
import * as os from "node:os";

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
  | "not-found"
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

/** How every loader hears the bad-row policy. */
export interface BadRowOptions {
  /** What to do with a bad row. Default `"error"`. */
  onBadRow?: BadRowPolicy;
  /**
   * How the caller's user switches to skipping, appended to every bad-row message after "or".
   * Default `pass --on-bad-row skip` (`rl-train data stats`); env specs say `dataset.onBadRow`.
   */
  skipHint?: string;
}

/** The skip hint of `rl-train data stats`, the command that has the `--on-bad-row` option. */
export const CLI_SKIP_HINT = "pass --on-bad-row skip";

/** Collects bad rows for one file and applies the policy. */
export class BadRows {
  readonly report: LoadReport;
  constructor(
    readonly file: string,
    readonly policy: BadRowPolicy = "error",
    readonly unit: "line" | "row" = "line",
    readonly skipHint: string = CLI_SKIP_HINT,
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
    const err = new DataError(this.file, line, kind, detail, `${fix} or ${this.skipHint}`, this.unit);
    if (this.policy === "error") throw err;
    this.report.skipped++;
    this.report.skippedByKind[kind] = (this.report.skippedByKind[kind] ?? 0) + 1;
    if (this.report.examples.length < MAX_EXAMPLES) this.report.examples.push(err.message);
  }
}

/** Largest id an Int32Array can hold; ids above it would wrap silently. */
export const MAX_ID = 2 ** 31 - 2;

/** `parsePositiveId` results that are not ids. */
export const NOT_AN_ID = -1;
export const ID_TOO_LARGE = -2;

const POSITIVE_INT = /^[1-9][0-9]*$/;

/** Parse a positive integer id; `NOT_AN_ID` if the token is not one, `ID_TOO_LARGE` above `MAX_ID`. */
export function parsePositiveId(token: string): number {
  if (!POSITIVE_INT.test(token)) return NOT_AN_ID;
  if (token.length > 10) return ID_TOO_LARGE;
  const v = Number(token);
  return v <= MAX_ID ? v : ID_TOO_LARGE;
}

/**
 * Kind, message and fix for a token `parsePositiveId` refused (`code` is its result).
 * `what` names the token (`item id`), `fix` is the caller's advice for a malformed one.
 */
export function badId(what: string, token: string, code: number, fix: string): { kind: BadRowKind; detail: string; fix: string } {
  return code === ID_TOO_LARGE
    ? { kind: "out-of-range", detail: `${what} "${token}" is too large (ids go up to ${MAX_ID})`, fix: "renumber the ids from 1" }
    : { kind: "not-an-integer", detail: `${what} "${token}" is not a positive integer`, fix };
}

/**
 * Bytes each item id costs in the dense per-item tables of the data and augment layers, which
 * are indexed by id from 0 to the largest id whether or not the ids in between occur: titles and
 * attribute lists (a pointer each), item counts and popularity weights (float64), co-occurrence
 * degrees and neighbour lists (one Int32Array object per item, ~100 bytes in V8). A rough upper
 * figure; the model's own tables are estimated in src/models/memory.ts.
 */
export const DENSE_BYTES_PER_ITEM = 200;

/** Memory the dense tables may take: half of the machine's, the rest is the model's and the system's. */
export function denseTableBudget(totalMemory: number = os.totalmem()): number {
  return totalMemory / 2;
}

/** `n` bytes as `1.5 GB` / `320 MB` for messages. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${Math.ceil(n / 1e3)} kB`;
}

/**
 * Throws unless per-item tables for ids 1..`maxId` fit `denseTableBudget`: one stray huge id
 * (2,000,000,000) would otherwise end the process in a native out-of-memory abort.
 * `line` is where `maxId` occurs (0: unknown).
 */
export function checkDenseItemIds(file: string, line: number, maxId: number, totalMemory: number = os.totalmem()): void {
  const need = (maxId + 2) * DENSE_BYTES_PER_ITEM;
  const budget = denseTableBudget(totalMemory);
  if (need <= budget) return;
  throw new DataError(
    file, line, "out-of-range",
    `item id ${maxId} is too large for this machine: items are stored densely by id (1..${maxId}), so per-item tables would take about ${formatBytes(need)}, above ${formatBytes(budget)} (half of the ${formatBytes(totalMemory)} memory)`,
    "renumber the items 1..I in order of first appearance, as S3-Rec files are, or load the log as CSV/Arrow, which renumbers",
  );
}

/**
 * A data file's text with a UTF-8 byte-order mark removed (editors on Windows add one, and it
 * would otherwise become part of the first header name or id). A missing file is a `DataError`
 * saying so, not a raw ENOENT.
 */
export function readDataText(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw notFound(path);
    throw new DataError(path, 0, "bad-format", `cannot read (${(e as Error).message.split("\n")[0]})`, "check the file's permissions");
  }
  return stripBom(text);
}

/** The error for a data path that does not exist. */
export function notFound(path: string): DataError {
  return new DataError(path, 0, "not-found", "not found", "check the path; env spec paths are relative to the spec file");
}

/** `text` without a leading UTF-8 byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

import type { SeqDataset } from "./types.ts";

/** A dataset as returned by a loader: the `SeqDataset` plus what was read and dropped. */
export type LoadedDataset = SeqDataset & { report: LoadReport };
