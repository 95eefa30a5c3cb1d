/**
 * Loader for a user's own interaction log: rows of (user, item, timestamp) as CSV/TSV or Arrow
 * (IPC file or stream; `tableFromIPC` reads both).
 *
 * Pipeline: read rows → optional k-core filter → per user, sort by timestamp (ties keep file
 * order) → renumber. Users keep their order of first appearance in the file; items are numbered
 * 1..N in order of first appearance when walking those users' sorted sequences (the S3-Rec
 * convention). Original ids are kept in `userIds` / `itemIds`, timestamps (seconds) in
 * `timestamps`.
 */
import { existsSync, readFileSync } from "node:fs";
import { tableFromIPC, type Table } from "apache-arrow";
import { BadRows, DataError, notFound, readDataText, stripBom, type BadRowOptions, type LoadedDataset } from "./errors.ts";
import { defaultName } from "./sequences.ts";

/** Column names of an interaction log. */
export interface InteractionColumns {
  /** Default `user`. */
  user: string;
  /** Default `item`. */
  item: string;
  /** Default `timestamp`. Numbers are seconds; CSV also accepts ISO-8601 dates; Arrow Timestamp/Date columns are converted. */
  timestamp: string;
}

/** Options of `loadInteractions`. */
export interface InteractionLoadOptions extends BadRowOptions {
  /** Dataset name; default: the file name without extension, lower-cased. */
  name?: string;
  /** Default: from the extension (`.arrow`, `.arrows`, `.feather`, `.ipc` → arrow; anything else → csv). */
  format?: "csv" | "arrow";
  /** CSV field separator. Default `"\t"` for `.tsv` files, `","` otherwise. */
  delimiter?: string;
  /** Column names; defaults `user`, `item`, `timestamp`. */
  columns?: Partial<InteractionColumns>;
  /** Columns other than the three are an error by default (`"error"`), so a mistyped name is caught; `"ignore"` drops them. */
  extraColumns?: "error" | "ignore";
  /**
   * k-core filter, applied repeatedly until stable: drop users with fewer than `user` interactions and
   * items with fewer than `item`. A number sets both. Default 0 (no filter). S3-Rec uses 5.
   */
  kCore?: number | { user: number; item: number };
}

/** Parsed rows before grouping: user/item keys are indices into `userKeys`/`itemKeys` (first appearance). */
export interface InteractionRows {
  user: Int32Array;
  item: Int32Array;
  time: Float64Array;
  userKeys: string[];
  itemKeys: string[];
}

const ARROW_EXT = /\.(arrow|arrows|feather|ipc)$/i;

/** Load an interaction log into a `SeqDataset`. Throws `DataError` naming file:line (CSV) or file row N (Arrow). */
export function loadInteractions(path: string, opts: InteractionLoadOptions = {}): LoadedDataset {
  const format = opts.format ?? (ARROW_EXT.test(path) ? "arrow" : "csv");
  if (format !== "csv" && format !== "arrow") {
    throw new RangeError(`\`format\` must be "csv" or "arrow", got ${JSON.stringify(format)}`);
  }
  const columns: InteractionColumns = { user: "user", item: "item", timestamp: "timestamp", ...opts.columns };
  const bad = new BadRows(path, opts.onBadRow, format === "csv" ? "line" : "row", opts.skipHint);
  const rows =
    format === "csv"
      ? parseCsvInteractions(readDataText(path), columns, opts.delimiter ?? (/\.tsv$/i.test(path) ? "\t" : ","), opts.extraColumns ?? "error", bad)
      : readArrowInteractions(readArrowBytes(path), columns, opts.extraColumns ?? "error", bad);
  const ds = buildDataset(rows, opts.name ?? defaultName(path), opts.kCore ?? 0);
  if (ds.sequences.length === 0) {
    throw new Error(`${path}: no interactions left (${bad.report.rows} rows read, ${bad.report.skipped} skipped, k-core ${JSON.stringify(opts.kCore ?? 0)}); lower \`kCore\` or check the file`);
  }
  const { filtered, ...dataset } = ds;
  return { ...dataset, report: { ...bad.report, filtered } };
}

/** Group rows into per-user chronological sequences, after an optional k-core filter. */
export function buildDataset(rows: InteractionRows, name: string, kCore: InteractionLoadOptions["kCore"]) {
  const { user, item, time } = rows;
  const n = user.length;
  const k = typeof kCore === "number" ? { user: kCore, item: kCore } : kCore ?? { user: 0, item: 0 };
  for (const key of ["user", "item"] as const) {
    if (!(Number.isInteger(k[key]) && k[key] >= 0)) throw new RangeError(`\`kCore.${key}\` must be a non-negative integer, got ${k[key]}`);
  }
  const alive = kCoreMask(rows, k.user, k.item);

  // Bucket alive rows by user (counting sort keeps file order inside a user).
  const numUsers = rows.userKeys.length;
  const start = new Int32Array(numUsers + 1);
  for (let r = 0; r < n; r++) if (alive[r]) start[user[r]! + 1]!++;
  for (let u = 0; u < numUsers; u++) start[u + 1]! += start[u]!;
  const fill = start.slice(0, numUsers);
  const byUser = new Int32Array(start[numUsers]!);
  for (let r = 0; r < n; r++) if (alive[r]) byUser[fill[user[r]!]!++] = r;

  const newItem = new Int32Array(rows.itemKeys.length); // 0 = not numbered yet
  const itemIds = [""];
  const sequences: Int32Array[] = [];
  const timestamps: Float64Array[] = [];
  const userIds: string[] = [];
  for (let u = 0; u < numUsers; u++) {
    const rs = Array.from(byUser.subarray(start[u]!, start[u + 1]!));
    if (rs.length === 0) continue;
    rs.sort((a, b) => time[a]! - time[b]! || a - b);
    const seq = new Int32Array(rs.length);
    const ts = new Float64Array(rs.length);
    rs.forEach((r, i) => {
      const it = item[r]!;
      if (newItem[it] === 0) {
        itemIds.push(rows.itemKeys[it]!);
        newItem[it] = itemIds.length - 1;
      }
      seq[i] = newItem[it]!;
      ts[i] = time[r]!;
    });
    sequences.push(seq);
    timestamps.push(ts);
    userIds.push(rows.userKeys[u]!);
  }
  const kept = byUser.length;
  return {
    name,
    numItems: itemIds.length - 1,
    sequences,
    userIds,
    itemIds,
    timestamps,
    filtered: { users: numUsers - userIds.length, items: rows.itemKeys.length - (itemIds.length - 1), interactions: n - kept },
  };
}

/** Rows that survive an iterated (user >= ku, item >= ki) core filter. */
export function kCoreMask(rows: InteractionRows, ku: number, ki: number): Uint8Array {
  const n = rows.user.length;
  const alive = new Uint8Array(n).fill(1);
  if (ku <= 1 && ki <= 1) return alive;
  const uCount = new Int32Array(rows.userKeys.length);
  const iCount = new Int32Array(rows.itemKeys.length);
  for (;;) {
    uCount.fill(0);
    iCount.fill(0);
    for (let r = 0; r < n; r++) {
      if (!alive[r]) continue;
      uCount[rows.user[r]!]!++;
      iCount[rows.item[r]!]!++;
    }
    let removed = 0;
    for (let r = 0; r < n; r++) {
      if (alive[r] && (uCount[rows.user[r]!]! < ku || iCount[rows.item[r]!]! < ki)) {
        alive[r] = 0;
        removed++;
      }
    }
    if (removed === 0) return alive;
  }
}

/** Interns string keys into dense indices by first appearance. */
class Interner {
  readonly keys: string[] = [];
  private map = new Map<string, number>();
  id(key: string): number {
    let v = this.map.get(key);
    if (v === undefined) {
      v = this.keys.length;
      this.map.set(key, v);
      this.keys.push(key);
    }
    return v;
  }
}

/** Growable row store for the parsers. */
class RowSink {
  users = new Interner();
  items = new Interner();
  u: number[] = [];
  i: number[] = [];
  t: number[] = [];
  push(user: string, item: string, time: number): void {
    this.u.push(this.users.id(user));
    this.i.push(this.items.id(item));
    this.t.push(time);
  }
  rows(): InteractionRows {
    return { user: Int32Array.from(this.u), item: Int32Array.from(this.i), time: Float64Array.from(this.t), userKeys: this.users.keys, itemKeys: this.items.keys };
  }
}

/** Map the header to the three column positions; unknown or missing names are whole-file errors. */
function resolveColumns(header: string[], columns: InteractionColumns, extra: "error" | "ignore", file: string, unit: "line" | "row"): [number, number, number] {
  const wanted = [columns.user, columns.item, columns.timestamp];
  const where = unit === "line" ? 1 : 0;
  for (const name of wanted) {
    if (!header.includes(name)) {
      throw new DataError(file, where, "missing-column", `no column "${name}" (columns: ${header.join(", ")})`, "rename the column or pass `columns` / --user-col, --item-col, --time-col");
    }
  }
  if (extra === "error") {
    const unknown = header.filter((h) => !wanted.includes(h));
    if (unknown.length > 0) {
      throw new DataError(file, where, "unknown-column", `unknown column${unknown.length > 1 ? "s" : ""} ${unknown.map((c) => `"${c}"`).join(", ")}; expected ${wanted.join(", ")}`, "remove them or pass `extraColumns: \"ignore\"` / --extra-columns ignore");
    }
  }
  return [header.indexOf(columns.user), header.indexOf(columns.item), header.indexOf(columns.timestamp)];
}

/** Seconds from a CSV timestamp field: a number (seconds) or an ISO-8601 date; NaN if neither. */
export function parseTimestamp(field: string): number {
  const s = field.trim();
  if (s === "") return NaN;
  const num = Number(s);
  if (Number.isFinite(num)) return num;
  // Only date-looking strings go to Date.parse, which otherwise accepts odd inputs like "1".
  return /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) / 1000 : NaN;
}

/** Parse CSV/TSV text with a header row. */
export function parseCsvInteractions(text: string, columns: InteractionColumns, delimiter: string, extra: "error" | "ignore", bad: BadRows): InteractionRows {
  const lines = stripBom(text).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) throw new DataError(bad.file, 0, "missing-column", "file is empty", "write a header line user,item,timestamp then one row per interaction");
  const header = splitCsvLine(lines[0]!.replace(/\r$/, ""), delimiter).map((h) => h.trim());
  const [cu, ci, ct] = resolveColumns(header, columns, extra, bad.file, "line");
  const sink = new RowSink();
  for (let l = 1; l < lines.length; l++) {
    const lineNo = l + 1;
    bad.report.rows++;
    const line = lines[l]!.replace(/\r$/, "");
    if (line.trim() === "") {
      bad.bad(lineNo, "empty-line", "empty line", "remove the line");
      continue;
    }
    const f = splitCsvLine(line, delimiter);
    if (f.length !== header.length) {
      bad.bad(lineNo, "wrong-field-count", `${f.length} fields, header has ${header.length}`, "fix the line");
      continue;
    }
    const user = f[cu]!.trim();
    const item = f[ci]!.trim();
    if (user === "" || item === "") {
      bad.bad(lineNo, "empty-id", `empty ${user === "" ? "user" : "item"} id`, "fill in the id");
      continue;
    }
    const time = parseTimestamp(f[ct]!);
    if (Number.isNaN(time)) {
      bad.bad(lineNo, "bad-timestamp", `timestamp "${f[ct]}" is neither a number of seconds nor an ISO-8601 date`, "fix the line");
      continue;
    }
    sink.push(user, item, time);
  }
  return sink.rows();
}

/** Split one CSV line; double-quoted fields may contain the delimiter and `""` for a quote. */
export function splitCsvLine(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (line.startsWith(delimiter, i)) {
      out.push(cur);
      cur = "";
      i += delimiter.length - 1;
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Read an Arrow IPC file or stream. */
export function readArrowInteractions(bytes: Uint8Array, columns: InteractionColumns, extra: "error" | "ignore", bad: BadRows): InteractionRows {
  const table = loadArrowTable(bytes, bad.file);
  const header = table.schema.fields.map((f) => f.name);
  resolveColumns(header, columns, extra, bad.file, "row");
  const users = table.getChild(columns.user)!;
  const items = table.getChild(columns.item)!;
  const times = table.getChild(columns.timestamp)!;
  // Arrow Timestamp (typeId 10) and Date (8) values come back as epoch milliseconds whatever the unit.
  const tsId = table.schema.fields[header.indexOf(columns.timestamp)]!.typeId;
  const tsScale = tsId === 10 || tsId === 8 ? 1 / 1000 : 1;
  const sink = new RowSink();
  for (let r = 0; r < table.numRows; r++) {
    bad.report.rows++;
    const u = users.get(r);
    const it = items.get(r);
    if (u === null || u === undefined || it === null || it === undefined || String(u) === "" || String(it) === "") {
      bad.bad(r + 1, "empty-id", `null or empty ${u === null || u === undefined || String(u) === "" ? "user" : "item"} id`, "fill in the id");
      continue;
    }
    const raw = times.get(r);
    const time = typeof raw === "bigint" ? Number(raw) * tsScale : typeof raw === "number" ? raw * tsScale : typeof raw === "string" ? parseTimestamp(raw) : NaN;
    if (!Number.isFinite(time)) {
      bad.bad(r + 1, "bad-timestamp", `timestamp ${JSON.stringify(String(raw))} is not a number or date`, "fix the row");
      continue;
    }
    sink.push(String(u), String(it), time);
  }
  return sink.rows();
}


/** An Arrow file's bytes; a missing file is a `DataError` saying so. */
function readArrowBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw notFound(path);
  return readFileSync(path);
}

/** Parse IPC bytes, turning arrow's low-level errors into a DataError naming the file. */
function loadArrowTable(bytes: Uint8Array, file: string): Table {
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw new DataError(file, 0, "bad-format", `not an Arrow IPC file or stream (${(e as Error).message})`, "write it with apache-arrow / pyarrow (IPC file or stream), or pass --format csv");
  }
}
