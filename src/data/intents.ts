/**
 * Intent-classification data: labelled utterances from CSV files (HINT3's `sentence,label`,
 * BANKING77's `text,category`), a seeded stratified validation split carved from train, and
 * seeded k-shot subsets.
 *
 * Splits and subsets are drawn from the *dataset* seed of a spec, never from an episode seed:
 * every arm of an experiment must train and validate on the same rows.
 *
 * Bad rows (missing label, empty text, bytes that are not UTF-8, a quote never closed, a wrong
 * number of fields) stop the load with a `DataError` naming file:line. A quoted field may span
 * lines (BANKING77 and Curekart have a few); the error names the line the record starts on.
 */
import { readFileSync } from "node:fs";
import type { Rng } from "../core/rng.ts";
import { DataError } from "./errors.ts";

/** Rows of one intent CSV file, in file order. */
export interface IntentRows {
  file: string;
  texts: string[];
  /** Label names as written in the file. */
  labels: string[];
  /** 1-based line on which each record starts. */
  lines: number[];
}

/** One CSV record and the line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** Header names accepted for the text and label columns. */
const TEXT_COLUMNS = ["sentence", "text", "utterance", "query"];
const LABEL_COLUMNS = ["label", "category", "intent"];

/**
 * Split CSV text into records (RFC 4180): fields separated by commas, double-quoted fields may
 * hold commas, `""` and line breaks; CRLF and LF both end a record. Throws on a quote that is
 * never closed or a stray quote inside an unquoted field.
 */
export function parseCsvRecords(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let start = 1;
  let quoted = false;
  let wasQuoted = false;
  const end = () => {
    fields.push(field);
    records.push({ fields, line: start });
    fields = [];
    field = "";
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field !== "" || wasQuoted) {
        throw new DataError(file, line, "bad-format", "a double quote inside an unquoted field", "quote the whole field and double the inner quotes (\"\")");
      }
      quoted = wasQuoted = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      wasQuoted = false;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      end();
      line++;
      start = line;
    } else field += c;
  }
  if (quoted) throw new DataError(file, start, "bad-format", "a quoted field is never closed", "close the quote or remove it");
  if (field !== "" || fields.length > 0) end();
  return records;
}

/** Decode UTF-8 strictly; the error names the first line holding bytes that are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const strict = new TextDecoder("utf-8", { fatal: true });
    let line = 1;
    let from = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        strict.decode(bytes.subarray(from, i));
      } catch {
        throw new DataError(file, line, "bad-encoding", "bytes that are not valid UTF-8", "re-encode the file as UTF-8");
      }
      line++;
      from = i + 1;
    }
    throw new DataError(file, 0, "bad-encoding", "not valid UTF-8", "re-encode the file as UTF-8");
  }
}

/** Options of `loadIntentCsv`. */
export interface IntentCsvOptions {
  /** Header name of the text column. Default: the first of sentence, text, utterance, query present. */
  textColumn?: string;
  /** Header name of the label column. Default: the first of label, category, intent present. */
  labelColumn?: string;
}

/** Read an intent CSV with a header row. Every bad row throws a `DataError` naming file:line. */
export function loadIntentCsv(file: string, options: IntentCsvOptions = {}): IntentRows {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError(file, 0, "bad-format", `cannot read the file (${(e as Error).message})`, "check the path (relative paths in a spec are relative to the spec file)");
  }
  return parseIntentCsv(decodeUtf8(bytes, file).replace(/^\uFEFF/, ""), file, options);
}

/** `loadIntentCsv` on text already in memory (`file` only names it in errors). */
export function parseIntentCsv(text: string, file: string, options: IntentCsvOptions = {}): IntentRows {
  const records = parseCsvRecords(text, file);
  const header = records.shift();
  if (!header) throw new DataError(file, 0, "missing-column", "the file is empty", "add a header such as `sentence,label` and one row per utterance");
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const find = (wanted: string | undefined, defaults: string[], what: string): number => {
    const candidates = wanted ? [wanted.toLowerCase()] : defaults;
    const i = names.findIndex((n) => candidates.includes(n));
    if (i < 0) {
      throw new DataError(file, header.line, "missing-column", `no ${what} column (header: ${JSON.stringify(header.fields)})`, `name it one of ${candidates.join(", ")}`);
    }
    return i;
  };
  const ti = find(options.textColumn, TEXT_COLUMNS, "text");
  const li = find(options.labelColumn, LABEL_COLUMNS, "label");
  const rows: IntentRows = { file, texts: [], labels: [], lines: [] };
  for (const { fields, line } of records) {
    if (fields.length === 1 && fields[0]!.trim() === "") continue; // blank line
    if (fields.length !== names.length) {
      const missing = fields.length < names.length;
      throw new DataError(file, line, missing ? "missing-label" : "wrong-field-count",
        missing ? `missing label: ${fields.length} field(s), the header has ${names.length}` : `${fields.length} fields, the header has ${names.length}`,
        missing ? "add the label after a comma" : "quote fields that contain commas");
    }
    const text = fields[ti]!.trim();
    const label = fields[li]!.trim();
    if (text === "") throw new DataError(file, line, "empty-text", "empty text", "remove the row or write the utterance");
    if (label === "") throw new DataError(file, line, "missing-label", "missing label", "write the row's intent label");
    rows.texts.push(text);
    rows.labels.push(label);
    rows.lines.push(line);
  }
  return rows;
}

/** Texts with integer labels; -1 marks an out-of-scope row (test sets only). */
export interface IntentSet {
  texts: string[];
  labels: Int32Array;
}

/** A dataset ready for training: in-scope label names and the three sets. */
export interface IntentData {
  name: string;
  /** In-scope intent names, sorted; label i of every set is `labelNames[i]`. */
  labelNames: string[];
  /** Name of the out-of-scope label in the test file (e.g. `NO_NODES_DETECTED`), if any. */
  oosLabel?: string;
  train: IntentSet;
  valid: IntentSet;
  test: IntentSet;
}

/** Row indices grouped by label, each group in ascending order. */
function byLabel(labels: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const g = groups.get(labels[i]!);
    if (g) g.push(i);
    else groups.set(labels[i]!, [i]);
  }
  return new Map([...groups].sort((a, b) => a[0] - b[0]));
}

/**
 * Stratified split: per label, round(fraction·n) of its n rows (at least 1 when n ≥ 2, never all)
 * go to validation, drawn with `rng`. Returns sorted row indices.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fraction: number, rng: Rng): { train: number[]; valid: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`stratifiedSplit: \`fraction\` must be in (0, 1), got ${fraction}`);
  const train: number[] = [];
  const valid: number[] = [];
  for (const rows of byLabel(labels).values()) {
    const n = rows.length;
    const k = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
    rng.shuffle(rows);
    valid.push(...rows.slice(0, k));
    train.push(...rows.slice(k));
  }
  return { train: train.sort((a, b) => a - b), valid: valid.sort((a, b) => a - b) };
}

/**
 * Per label, `perLabel` rows drawn with `rng` (all of them when a label has fewer); `rest` holds the
 * others. Both sorted.
 */
export function samplePerLabel(labels: ArrayLike<number>, perLabel: number, rng: Rng): { picked: number[]; rest: number[] } {
  if (!(Number.isInteger(perLabel) && perLabel >= 1)) throw new RangeError(`samplePerLabel: \`perLabel\` must be an integer >= 1, got ${perLabel}`);
  const picked: number[] = [];
  const rest: number[] = [];
  for (const rows of byLabel(labels).values()) {
    rng.shuffle(rows);
    picked.push(...rows.slice(0, perLabel));
    rest.push(...rows.slice(perLabel));
  }
  return { picked: picked.sort((a, b) => a - b), rest: rest.sort((a, b) => a - b) };
}

/** How `buildIntentData` carves train/valid from the train file. */
export interface IntentSplitOptions {
  /** Dataset name for logs. */
  name: string;
  /** Seed of the split and subset streams (fixed per spec, not per episode). */
  seed: number;
  /** Without `shots`: fraction of each label's train rows held out for validation. */
  validFraction: number;
  /** k-shot: train on k rows per label. */
  shots?: number;
  /** With `shots`: validation rows per label, drawn from the train rows outside the k-shot subset. */
  validPerLabel: number;
  /** Test label of out-of-scope rows (mapped to -1). */
  oosLabel?: string;
}

/**
 * Train/valid/test sets from a train file and a test file. Without `shots`, validation is a
 * stratified `validFraction` of train; with `shots`, train is k rows per label and validation
 * `validPerLabel` other rows per label. A test label unknown to train (other than `oosLabel`)
 * throws naming file:line.
 */
export function buildIntentData(trainRows: IntentRows, testRows: IntentRows, options: IntentSplitOptions, rng: Rng): IntentData {
  const { oosLabel } = options;
  trainRows.labels.forEach((l, i) => {
    if (l === oosLabel) {
      throw new DataError(trainRows.file, trainRows.lines[i]!, "out-of-range", `the out-of-scope label ${l} in a train file`, "out-of-scope rows belong to the test set only; remove the row");
    }
  });
  const labelNames = [...new Set(trainRows.labels)].sort();
  const index = new Map(labelNames.map((l, i) => [l, i]));
  const all = Int32Array.from(trainRows.labels, (l) => index.get(l)!);
  const testLabels = Int32Array.from(testRows.labels, (l, i) => {
    if (l === oosLabel) return -1;
    const k = index.get(l);
    if (k === undefined) {
      throw new DataError(testRows.file, testRows.lines[i]!, "out-of-range", `label ${JSON.stringify(l)} never occurs in ${trainRows.file}`,
        oosLabel ? `fix the label, or use ${oosLabel} for out-of-scope rows` : "fix the label or set the spec's `oos.label`");
    }
    return k;
  });
  let trainIdx: number[];
  let validIdx: number[];
  if (options.shots !== undefined) {
    const { picked, rest } = samplePerLabel(all, options.shots, rng.child("shots"));
    trainIdx = picked;
    validIdx = samplePerLabel(Int32Array.from(rest, (i) => all[i]!), options.validPerLabel, rng.child("valid")).picked.map((j) => rest[j]!);
  } else {
    ({ train: trainIdx, valid: validIdx } = stratifiedSplit(all, options.validFraction, rng.child("valid")));
  }
  const take = (idx: number[]): IntentSet => ({ texts: idx.map((i) => trainRows.texts[i]!), labels: Int32Array.from(idx, (i) => all[i]!) });
  const data: IntentData = {
    name: options.name, labelNames, train: take(trainIdx), valid: take(validIdx), test: { texts: testRows.texts.slice(), labels: testLabels },
  };
  if (oosLabel !== undefined) data.oosLabel = oosLabel;
  return data;
}
