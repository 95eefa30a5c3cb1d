/**
 * Shared plumbing for benchmarks: where they ran (machine, commit, command) and writing a result
 * as JSON plus a markdown table under bench/results/.
 */
import { execSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Provenance {
  machine: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  commit: string;
  /** True when the working tree had uncommitted changes to tracked files. */
  dirty: boolean;
  command: string;
  date: string;
}

export function provenance(): Provenance {
  let commit = "unknown";
  let dirty = false;
  try {
    commit = execSync("git rev-parse --short HEAD", { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    dirty = execSync("git status --porcelain --untracked-files=no", { stdio: ["ignore", "pipe", "ignore"] }).toString().trim() !== "";
  } catch {
    // not a git checkout: keep "unknown"
  }
  const cpus = os.cpus();
  return {
    machine: `${cpus[0]?.model ?? "unknown cpu"} x${cpus.length}, ${os.platform()} ${os.arch()}`,
    cpus: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    commit,
    dirty,
    command: process.env.npm_lifecycle_event
      ? ["npm run", process.env.npm_lifecycle_event, "--", ...process.argv.slice(2)].join(" ")
      : ["node --import tsx", path.relative(process.cwd(), process.argv[1] ?? ""), ...process.argv.slice(2)].join(" "),
    date: new Date().toISOString(),
  };
}

/** A markdown table from rows of equal keys. */
export function markdownTable(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0]!);
  const fmt = (v: string | number) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v);
  return [
    `| ${cols.join(" | ")} |`,
    `| ${cols.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${cols.map((c) => fmt(r[c] ?? "")).join(" | ")} |`),
  ].join("\n");
}

/** Write `bench/results/<name>.json` and `<name>.md`; returns their paths. */
export function writeResult(name: string, json: object, markdown: string, dir = "bench/results"): { json: string; md: string } {
  fs.mkdirSync(dir, { recursive: true });
  const jsonPath = path.join(dir, `${name}.json`);
  const mdPath = path.join(dir, `${name}.md`);
  fs.writeFileSync(jsonPath, JSON.stringify(json, null, 2) + "\n");
  fs.writeFileSync(mdPath, markdown.endsWith("\n") ? markdown : markdown + "\n");
  return { json: jsonPath, md: mdPath };
}

/**
 * A counter for the `toRun` units of work (cells, episodes) one invocation runs out of `total`
 * (the rest were finished by earlier invocations): each call logs how many are done and the time
 * left, extrapolated from the wall time so far — so it already reflects how many run at once.
 */
export function progressReporter(tag: string, unit: string, toRun: number, total: number, log: (line: string) => void, now: () => number = () => performance.now()): () => void {
  const t0 = now();
  let finished = 0;
  if (toRun < total) log(`[${tag}] ${total - toRun} of ${total} ${unit} kept from earlier runs; ${toRun} to run`);
  return () => {
    finished++;
    const elapsed = (now() - t0) / 1000;
    const left = (elapsed / finished) * (toRun - finished);
    log(`[${tag}] ${finished}/${toRun} ${unit} run, ${formatDuration(elapsed)} elapsed${finished < toRun ? `, ~${formatDuration(left)} left` : ""}`);
  };
}

/** 42 s → "42s"; 95 s → "1m35s"; 3700 s → "1h01m". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
