/**
 * One entry point that picks the loader by format: `loadDataset(spec)`.
 *
 * `spec.path` may be a file or a directory laid out like `envs/data/beauty/`: one S3-Rec `.txt`
 * file plus optional `*_item2attributes.json` and `*titles.tsv`, which are then found by name.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadCatalogue } from "./catalogue.ts";
import { notFound, type BadRowPolicy, type LoadedDataset, type LoadReport } from "./errors.ts";
import { loadInteractions, type InteractionLoadOptions } from "./interactions.ts";
import { loadSequences } from "./sequences.ts";

/** Input formats `loadDataset` knows. */
export const DATA_FORMATS = ["s3rec", "csv", "arrow"] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** What to load. Only `path` is required. */
export interface DatasetSpec {
  /** A data file, or a directory holding one S3-Rec `.txt` file and optional catalogue files. */
  path: string;
  /** Default: from the extension (`.txt` → s3rec, `.csv`/`.tsv` → csv, `.arrow`/`.arrows`/`.feather`/`.ipc` → arrow). */
  format?: DataFormat;
  /** Dataset name; default: the file (or directory) name, lower-cased. */
  name?: string;
  /** Titles TSV; default for a directory: the one `*titles.tsv` in it, if any. */
  titles?: string;
  /** Attributes JSON; default for a directory: the one `*_item2attributes.json` in it, if any. */
  attributes?: string;
  /** Bad-row policy for every file read. Default `"error"`. */
  onBadRow?: BadRowPolicy;
  /** How the user switches to skipping, for bad-row messages (see `BadRowOptions.skipHint`). */
  skipHint?: string;
  /** Interaction logs only: k-core filter (default 0 = none). */
  kCore?: InteractionLoadOptions["kCore"];
  /** Interaction logs only: column names (defaults user, item, timestamp). */
  columns?: InteractionLoadOptions["columns"];
  /** Interaction logs only: what to do with extra columns. Default `"error"`. */
  extraColumns?: InteractionLoadOptions["extraColumns"];
}

/** A loaded dataset with one report per file read (data file first). */
export type LoadedSpec = LoadedDataset & { reports: LoadReport[] };

/** Load a dataset (and its catalogue, if given or found) whatever its format. */
export function loadDataset(spec: DatasetSpec): LoadedSpec {
  // Before the format is guessed from the name: a typo'd path should say "not found".
  if (!existsSync(spec.path)) throw notFound(spec.path);
  const resolved = resolveSpec(spec);
  const format = resolved.format ?? formatOf(resolved.path);
  let ds: LoadedDataset;
  if (format === "s3rec") {
    ds = loadSequences(resolved.path, { name: resolved.name, onBadRow: resolved.onBadRow, skipHint: resolved.skipHint });
  } else if (format === "csv" || format === "arrow") {
    ds = loadInteractions(resolved.path, {
      name: resolved.name,
      format,
      onBadRow: resolved.onBadRow,
      skipHint: resolved.skipHint,
      kCore: resolved.kCore,
      columns: resolved.columns,
      extraColumns: resolved.extraColumns,
    });
  } else {
    throw new RangeError(`\`format\` must be one of ${DATA_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  }
  const reports = [ds.report];
  if (resolved.titles || resolved.attributes) {
    if (format !== "s3rec") {
      // Logs are renumbered on load, so a catalogue keyed by the S3-Rec ids would attach to the wrong items.
      throw new RangeError(`\`titles\`/\`attributes\` are keyed by S3-Rec item ids and only apply to format "s3rec", got format "${format}"`);
    }
    const { reports: catReports, ...catalogue } = loadCatalogue({ titles: resolved.titles, attributes: resolved.attributes }, ds.numItems, { onBadRow: resolved.onBadRow, skipHint: resolved.skipHint });
    ds.catalogue = catalogue;
    reports.push(...catReports);
  }
  return { ...ds, reports };
}

/** The format implied by a file name. */
export function formatOf(path: string): DataFormat {
  if (/\.txt$/i.test(path)) return "s3rec";
  if (/\.(csv|tsv)$/i.test(path)) return "csv";
  if (/\.(arrow|arrows|feather|ipc)$/i.test(path)) return "arrow";
  throw new RangeError(`cannot tell the format of \`path\` ${JSON.stringify(path)} from its extension; pass \`format\` (--format) as one of ${DATA_FORMATS.join(", ")}`);
}

/** For a directory, find the sequence file and catalogue files inside it. */
function resolveSpec(spec: DatasetSpec): DatasetSpec {
  if (!statSync(spec.path, { throwIfNoEntry: false })?.isDirectory()) return spec;
  const files = readdirSync(spec.path).sort();
  const one = (what: string, re: RegExp, required: boolean): string | undefined => {
    const hits = files.filter((f) => re.test(f));
    if (hits.length > 1 || (required && hits.length === 0)) {
      throw new RangeError(`\`path\` ${spec.path} is a directory with ${hits.length} ${what} files (${hits.join(", ") || "none"}); pass the file itself`);
    }
    return hits[0] === undefined ? undefined : join(spec.path, hits[0]);
  };
  const dirName = spec.path.replace(/[\\/]+$/, "").split(/[\\/]/).pop()!.toLowerCase();
  return {
    ...spec,
    path: one("S3-Rec .txt", /\.txt$/i, true)!,
    format: spec.format ?? "s3rec",
    name: spec.name ?? dirName,
    titles: spec.titles ?? one("titles .tsv", /titles\.tsv$/i, false),
    attributes: spec.attributes ?? one("attributes .json", /_item2attributes\.json$/i, false),
  };
}
