/**
 * The candidate cache the expensive transformer ops read during training.
 *
 * Model inference is far too slow to run inside a training step, so every text is processed once
 * ahead of time and its candidates are stored in an Arrow IPC *file* (`.arrow`, written once,
 * read whole): one row per candidate, long format so it stays readable by any Arrow reader.
 *
 * | column | type | meaning |
 * |---|---|---|
 * | `text` | Utf8 | the original text (the lookup key) |
 * | `position` | Int32 | word index (in `splitWords(text)`) the candidate replaces; −1 = whole-text candidate |
 * | `candidate` | Utf8 | replacement word(s), or the whole alternative text |
 * | `score` | Float32 | model score (fill-mask probability, cosine similarity, 1 for translations) |
 *
 * Schema metadata: `augrl.op`, `augrl.model`, `augrl.cache_version`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Schema, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray } from "apache-arrow";

export const CACHE_VERSION = "1";

/** Candidates of one text. */
export interface TextCandidates {
  /** Word index → candidates with scores, best first. */
  words: Map<number, { candidate: string; score: number }[]>;
  /** Whole-text alternatives, best first. */
  whole: { candidate: string; score: number }[];
}

/** All candidates of one op, keyed by the original text. */
export interface CandidateCache {
  op: string;
  model: string;
  entries: Map<string, TextCandidates>;
}

/** One row of the long format. */
export interface CandidateRow {
  text: string;
  position: number;
  candidate: string;
  score: number;
}

/** An empty cache for `op`. */
export function emptyCache(op: string, model: string): CandidateCache {
  return { op, model, entries: new Map() };
}

/** Add one candidate (creating the text's entry); `position` −1 adds a whole-text candidate. */
export function addCandidate(cache: CandidateCache, row: CandidateRow): void {
  let e = cache.entries.get(row.text);
  if (!e) {
    e = { words: new Map(), whole: [] };
    cache.entries.set(row.text, e);
  }
  const item = { candidate: row.candidate, score: row.score };
  if (row.position < 0) e.whole.push(item);
  else {
    const list = e.words.get(row.position) ?? [];
    list.push(item);
    e.words.set(row.position, list);
  }
}

/** Make sure `text` has an entry even without candidates (so it counts as processed, not missing). */
export function touchText(cache: CandidateCache, text: string): void {
  if (!cache.entries.has(text)) cache.entries.set(text, { words: new Map(), whole: [] });
}

/** The cache as rows (texts without candidates get one row with position −2 and an empty candidate). */
export function cacheRows(cache: CandidateCache): CandidateRow[] {
  const rows: CandidateRow[] = [];
  for (const [text, e] of cache.entries) {
    const before = rows.length;
    for (const [position, list] of [...e.words].sort((a, b) => a[0] - b[0])) {
      for (const c of list) rows.push({ text, position, candidate: c.candidate, score: c.score });
    }
    for (const c of e.whole) rows.push({ text, position: -1, candidate: c.candidate, score: c.score });
    // Keep processed-but-empty texts so a reader can tell "no candidates" from "never processed".
    if (rows.length === before) rows.push({ text, position: -2, candidate: "", score: 0 });
  }
  return rows;
}

/** Write `cache` as an Arrow IPC file at `path` (parent folders are created). Returns `path`. */
export function writeCandidateCache(path: string, cache: CandidateCache): string {
  const rows = cacheRows(cache);
  const data = new Table({
    text: vectorFromArray(rows.map((r) => r.text), new Utf8()),
    position: vectorFromArray(Int32Array.from(rows, (r) => r.position)),
    candidate: vectorFromArray(rows.map((r) => r.candidate), new Utf8()),
    score: vectorFromArray(Float32Array.from(rows, (r) => r.score)),
  });
  const metadata = new Map([
    ["augrl.op", cache.op],
    ["augrl.model", cache.model],
    ["augrl.cache_version", CACHE_VERSION],
  ]);
  const table = new Table(new Schema(data.schema.fields, metadata), data.batches);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, tableToIPC(table, "file"));
  return path;
}

/** Read a cache written by `writeCandidateCache`; `expectOp` guards against loading another op's file. */
export function readCandidateCache(path: string, expectOp?: string): CandidateCache {
  let table: Table;
  try {
    table = tableFromIPC(readFileSync(path));
  } catch (e) {
    throw new Error(`readCandidateCache: cannot read \`path\` ${path} as an Arrow IPC file (${(e as Error).message}); create it with precomputeTransformerCache`);
  }
  const meta = table.schema.metadata;
  const op = meta.get("augrl.op") ?? "";
  if (expectOp !== undefined && op !== expectOp) {
    throw new Error(`readCandidateCache: ${path} holds candidates of op \`${op}\`, expected \`${expectOp}\`; precompute a cache for \`${expectOp}\``);
  }
  // Compare type names: IPC readers rebuild generic Int_/Float classes, not the Int32/Float32 subclasses.
  for (const [name, type] of [["text", "Utf8"], ["position", "Int32"], ["candidate", "Utf8"], ["score", "Float32"]] as const) {
    const field = table.schema.fields.find((f) => f.name === name);
    if (!field || String(field.type) !== type) {
      throw new Error(`readCandidateCache: ${path} lacks column \`${name}\` of type ${type} (found ${field ? String(field.type) : "none"}); it was not written by writeCandidateCache`);
    }
  }
  const cache = emptyCache(op, meta.get("augrl.model") ?? "");
  const text = table.getChild("text")!;
  const position = table.getChild("position")!;
  const candidate = table.getChild("candidate")!;
  const score = table.getChild("score")!;
  for (let i = 0; i < table.numRows; i++) {
    const t = text.get(i) as string;
    const p = position.get(i) as number;
    if (p === -2) touchText(cache, t);
    else addCandidate(cache, { text: t, position: p, candidate: candidate.get(i) as string, score: score.get(i) as number });
  }
  return cache;
}
