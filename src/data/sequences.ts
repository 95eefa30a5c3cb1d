/**
 * Loader for the S3-Rec sequence format (`Beauty.txt` and friends).
 *
 * One line per user: `user_id item_id item_id ...`, items oldest first, ids positive integers.
 * Item ids are kept as they are (no renumbering): S3-Rec files already number items 1..I, and
 * titles/attributes files are keyed by those ids.
 */
import { BadRows, badId, checkDenseItemIds, parsePositiveId, readDataText, stripBom, type BadRowOptions, type LoadedDataset } from "./errors.ts";

/** Options of `loadSequences` / `parseSequences`. */
export interface SequenceLoadOptions extends BadRowOptions {
  /** Dataset name; default: the file name without extension, lower-cased (e.g. `beauty`). */
  name?: string;
  /**
   * Number of items. Default: the largest item id in the file. When given, an item id above it
   * is an `out-of-range` bad row (use it when the catalogue fixes the item count).
   */
  numItems?: number;
}

/** Read an S3-Rec sequence file. Throws `DataError` (file:line) on the first bad line unless `onBadRow: "skip"`. */
export function loadSequences(path: string, opts: SequenceLoadOptions = {}): LoadedDataset {
  return parseSequences(readDataText(path), path, opts);
}

/** `loadSequences` on text already in memory; `file` is used in error messages only. */
export function parseSequences(text: string, file: string, opts: SequenceLoadOptions = {}): LoadedDataset {
  const limit = opts.numItems;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new RangeError(`\`numItems\` must be a positive integer, got ${limit}`);
  }
  if (limit !== undefined) checkDenseItemIds(file, 0, limit);
  const bad = new BadRows(file, opts.onBadRow, "line", opts.skipHint);
  const lines = stripBom(text).split("\n");
  // A final newline leaves one empty string behind; that is the normal file end, not an empty line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();

  const sequences: Int32Array[] = [];
  const userIds: string[] = [];
  const seenUsers = new Set<string>();
  let maxItem = 0;
  let maxItemLine = 0;

  lineLoop: for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    // Tolerate CRLF files (the P5 copy of Beauty.txt has them).
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    bad.report.rows++;
    const tokens = line.trim().split(/\s+/);
    if (tokens[0] === "") {
      bad.bad(lineNo, "empty-line", "empty line", "remove the line");
      continue;
    }
    const user = tokens[0]!;
    const userId = parsePositiveId(user);
    if (userId < 0) {
      const b = badId("user id", user, userId, "fix the line");
      bad.bad(lineNo, b.kind, b.detail, b.fix);
      continue;
    }
    if (seenUsers.has(user)) {
      bad.bad(lineNo, "duplicate-user", `user ${user} appears twice`, "merge the two lines into one, oldest items first,");
      continue;
    }
    if (tokens.length < 2) {
      bad.bad(lineNo, "no-items", `user ${user} has no items`, "remove the line");
      continue;
    }
    const seq = new Int32Array(tokens.length - 1);
    for (let t = 1; t < tokens.length; t++) {
      const id = parsePositiveId(tokens[t]!);
      if (id < 0) {
        const b = badId("item id", tokens[t]!, id, "fix the line");
        bad.bad(lineNo, b.kind, b.detail, b.fix);
        continue lineLoop;
      }
      if (limit !== undefined && id > limit) {
        bad.bad(lineNo, "out-of-range", `item id ${id} is above \`numItems\` = ${limit}`, "fix the line or raise `numItems`");
        continue lineLoop;
      }
      seq[t - 1] = id;
    }
    for (const id of seq) {
      if (id > maxItem) {
        maxItem = id;
        maxItemLine = lineNo;
      }
    }
    seenUsers.add(user);
    userIds.push(user);
    sequences.push(seq);
  }
  if (limit === undefined) checkDenseItemIds(file, maxItemLine, maxItem);
  if (sequences.length === 0) {
    throw new Error(`${file}: no usable user lines (${bad.report.rows} lines read, ${bad.report.skipped} skipped); expected "user_id item_id item_id ..." per line`);
  }
  return {
    name: opts.name ?? defaultName(file),
    numItems: limit ?? maxItem,
    sequences,
    userIds,
    report: bad.report,
  };
}

/** `envs/data/beauty/Beauty.txt` → `beauty`. */
export function defaultName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.[^.]*$/, "").toLowerCase() || "dataset";
}
