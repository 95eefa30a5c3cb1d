/**
 * Item side information: titles (TSV) and attribute ids (JSON) into a `Catalogue`.
 *
 * Titles TSV: a header naming an item-id column (`s3rec_item_id`, `item_id` or `item`) and a
 * `title` column (other columns such as `asin` are allowed and ignored), then one row per item.
 * Attributes JSON: `{"<item_id>": [attr_id, ...], ...}` (S3-Rec `*_item2attributes.json`).
 * Items missing from either file get "" / an empty attribute list.
 */
import { BadRows, badId, DataError, MAX_ID, parsePositiveId, readDataText, stripBom, type BadRowOptions, type LoadReport } from "./errors.ts";
import type { Catalogue } from "./types.ts";

/** Paths of the side-information files; either may be left out. */
export interface CatalogueSources {
  /** Titles TSV, e.g. `envs/data/beauty/beauty_s3rec_item_titles.tsv`. */
  titles?: string;
  /** Attributes JSON, e.g. `envs/data/beauty/Beauty_item2attributes.json`. */
  attributes?: string;
}

/** Options of `loadCatalogue`. */
export type CatalogueLoadOptions = BadRowOptions;

/** Accepted names of the item-id column of a titles TSV, in order of preference. */
export const TITLE_ID_COLUMNS = ["s3rec_item_id", "item_id", "item"] as const;

/** A catalogue plus one report per file read. */
export type LoadedCatalogue = Catalogue & { reports: LoadReport[] };

/** Load titles and/or attributes for items 1..numItems. Throws `DataError` (file:line) on bad rows unless skipping. */
export function loadCatalogue(sources: CatalogueSources, numItems: number, opts: CatalogueLoadOptions = {}): LoadedCatalogue {
  if (!(Number.isInteger(numItems) && numItems > 0)) {
    throw new RangeError(`\`numItems\` must be a positive integer, got ${numItems} (pass the dataset's numItems)`);
  }
  const out: LoadedCatalogue = { reports: [] };
  if (sources.titles) {
    const bad = new BadRows(sources.titles, opts.onBadRow, "line", opts.skipHint);
    out.titles = parseTitles(readDataText(sources.titles), numItems, bad);
    out.reports.push(bad.report);
  }
  if (sources.attributes) {
    const bad = new BadRows(sources.attributes, opts.onBadRow, "line", opts.skipHint);
    const { attributes, numAttributes } = parseAttributes(readDataText(sources.attributes), numItems, bad);
    out.attributes = attributes;
    out.numAttributes = numAttributes;
    out.reports.push(bad.report);
  }
  return out;
}

/** Parse a titles TSV; `titles[item]`, index 0 unused. */
export function parseTitles(text: string, numItems: number, bad: BadRows): string[] {
  const lines = stripBom(text).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const header = (lines[0] ?? "").replace(/\r$/, "").split("\t");
  const idCol = TITLE_ID_COLUMNS.map((c) => header.indexOf(c)).find((i) => i >= 0) ?? -1;
  const titleCol = header.indexOf("title");
  if (idCol < 0 || titleCol < 0) {
    const missing = idCol < 0 ? `an item-id column (${TITLE_ID_COLUMNS.join(" / ")})` : "a `title` column";
    // A header problem makes every row unreadable, so it is fatal even in skip mode.
    throw new DataError(bad.file, 1, "missing-column", `header ${JSON.stringify(header.join("\t"))} lacks ${missing}`, "add a TAB-separated header such as `s3rec_item_id\tasin\ttitle`");
  }
  const titles = new Array<string>(numItems + 1).fill("");
  const seen = new Uint8Array(numItems + 1);
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    bad.report.rows++;
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "") {
      bad.bad(lineNo, "empty-line", "empty line", "remove the line");
      continue;
    }
    const fields = line.split("\t");
    if (fields.length !== header.length) {
      bad.bad(lineNo, "wrong-field-count", `${fields.length} TAB-separated fields, header has ${header.length}`, "fix the line (a TAB inside a title?)");
      continue;
    }
    const id = parsePositiveId(fields[idCol]!);
    if (id < 0) {
      const b = badId("item id", fields[idCol]!, id, "fix the line");
      bad.bad(lineNo, b.kind, b.detail, b.fix);
      continue;
    }
    if (id > numItems) {
      bad.bad(lineNo, "out-of-range", `item id ${id} is above the dataset's ${numItems} items`, "use the titles file that belongs to this dataset");
      continue;
    }
    if (seen[id]) {
      bad.bad(lineNo, "duplicate-item", `item ${id} has a second title row`, "keep one row per item");
      continue;
    }
    seen[id] = 1;
    titles[id] = fields[titleCol]!;
  }
  return titles;
}

/** Parse an item→attributes JSON object; `attributes[item]`, index 0 unused. */
export function parseAttributes(text: string, numItems: number, bad: BadRows): { attributes: Int32Array[]; numAttributes: number } {
  let obj: unknown;
  try {
    obj = JSON.parse(stripBom(text));
  } catch (e) {
    throw new DataError(bad.file, 0, "bad-format", `not valid JSON (${(e as Error).message})`, 'expected one object {"<item_id>": [attr_id, ...]}');
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new DataError(bad.file, 0, "bad-format", `top-level JSON is ${Array.isArray(obj) ? "an array" : typeof obj}, not an object`, 'expected {"<item_id>": [attr_id, ...]}');
  }
  const empty = new Int32Array(0);
  const attributes = new Array<Int32Array>(numItems + 1).fill(empty);
  let numAttributes = 0;
  // The S3-Rec file is one long line; point at the line where the key sits so multi-line files still get a useful location.
  const lineOf = (key: string) => lineAt(text, text.indexOf(`"${key}"`));
  for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
    bad.report.rows++;
    const id = parsePositiveId(key);
    if (id < 0) {
      const b = badId("item id", key, id, "fix the key");
      bad.bad(lineOf(key), b.kind, b.detail, b.fix);
      continue;
    }
    if (id > numItems) {
      bad.bad(lineOf(key), "out-of-range", `item id ${id} is above the dataset's ${numItems} items`, "use the attributes file that belongs to this dataset");
      continue;
    }
    if (!Array.isArray(value) || !value.every((a) => Number.isInteger(a) && a > 0)) {
      bad.bad(lineOf(key), "not-an-integer", `attributes of item ${id} are not a list of positive integers: ${JSON.stringify(value).slice(0, 60)}`, "fix the value");
      continue;
    }
    // Int32Array.from would wrap a larger id silently into another (or a negative) attribute.
    const huge = (value as number[]).find((a) => a > MAX_ID);
    if (huge !== undefined) {
      bad.bad(lineOf(key), "out-of-range", `attribute id ${huge} of item ${id} is too large (ids go up to ${MAX_ID})`, "renumber the attribute ids from 1");
      continue;
    }
    const arr = Int32Array.from(value as number[]);
    for (const a of arr) if (a > numAttributes) numAttributes = a;
    attributes[id] = arr;
  }
  return { attributes, numAttributes };
}

/** 1-based line number of a character offset (1 if not found). */
function lineAt(text: string, offset: number): number {
  if (offset < 0) return 1;
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
