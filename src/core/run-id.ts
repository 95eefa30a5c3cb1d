/**
 * Run ids, run folders and the provenance every run records in its config.json.
 *
 * A run id reads `<UTC date>-<UTC time>-<prefix>-s<seed>`, e.g. `20261127-041500-baseline-s42`:
 * sorting run folders by name sorts them by start time, and the seed is visible without opening
 * the config. UTC, so two machines in different time zones name the same instant the same way.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Packages whose versions change results or file formats; recorded in every run's config. */
export const RECORDED_PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-node",
  "@tensorflow/tfjs-node-gpu",
  "apache-arrow",
  "ws",
  "@xenova/transformers",
  "yargs",
  "seedrandom",
] as const;

/** `20261127-041500-baseline-s42` for prefix `baseline`, seed 42 and that UTC instant. */
export function makeRunId(prefix: string, seed: number, date: Date = new Date()): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(prefix)) {
    throw new Error(`\`prefix\` must be lower-case letters, digits and dashes (it becomes a folder name); got ${JSON.stringify(prefix)}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`\`seed\` must be a non-negative integer; got ${seed}`);
  }
  if (Number.isNaN(date.getTime())) throw new Error("`date` is an invalid Date; pass a valid one or leave it out for now");
  const p = (n: number) => String(n).padStart(2, "0");
  const day = `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}`;
  const time = `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  return `${day}-${time}-${prefix}-s${seed}`;
}

/**
 * Create `<outDir>/<runId>` and return its path. Two runs started in the same second with the
 * same seed would share an id; the later one gets `-2`, `-3`, ... rather than overwriting the
 * earlier run's files (the folder is created atomically, so parallel runs cannot both win).
 */
export function createRunDir(outDir: string, runId: string): { runId: string; dir: string } {
  fs.mkdirSync(outDir, { recursive: true });
  for (let n = 1; n < 1000; n++) {
    const id = n === 1 ? runId : `${runId}-${n}`;
    const dir = path.join(outDir, id);
    try {
      fs.mkdirSync(dir);
      return { runId: id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  throw new Error(`\`outDir\` ${outDir} already holds 999 runs named ${runId}*; pass another --out or wait a second`);
}

/** Where the run came from: enough to rerun it and to explain a difference between two runs. */
export interface RunMetadata {
  /** Installed version per package in RECORDED_PACKAGES; null when not installed (e.g. tfjs-node offline). */
  packages: Record<string, string | null>;
  node: string;
  platform: string;
  /** `git rev-parse HEAD`, or null outside a git checkout. */
  commit: string | null;
  /** True when tracked files had uncommitted changes: the commit alone does not reproduce the run. */
  dirty: boolean | null;
  /** ISO time the metadata was taken. */
  date: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The nearest `node_modules/<pkg>/package.json` above this file, read directly because some packages do not export it. */
function installedVersion(pkg: string): string | null {
  for (let dir = here; ; dir = path.dirname(dir)) {
    try {
      const json = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", pkg, "package.json"), "utf8")) as { version?: unknown };
      return typeof json.version === "string" ? json.version : null;
    } catch {
      // not installed at this level: keep walking up, as Node's own resolution does
    }
    if (path.dirname(dir) === dir) return null;
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: here, stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).toString().trim();
  } catch {
    return null;
  }
}

/** Package versions, node version and git commit of the code that runs. */
export function runMetadata(): RunMetadata {
  const packages: Record<string, string | null> = {};
  for (const pkg of RECORDED_PACKAGES) packages[pkg] = installedVersion(pkg);
  const commit = git(["rev-parse", "HEAD"]);
  const status = commit === null ? null : git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    packages,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit,
    dirty: status === null ? null : status !== "",
    date: new Date().toISOString(),
  };
}
