/**
 * What travels between a coordinator (`rl-train run --queue`, `bench:quality --queue`) and
 * `rl-train worker` through BullMQ: one queue, jobs named by kind, each job's data an envelope.
 *
 * - `protocol`: the envelope and body format (PROTOCOL_VERSION); `code`: the code's version
 *   (package version + git commit + a digest of uncommitted changes). A worker refuses a job of
 *   another protocol or code version: results must be what the coordinator's own code computes.
 * - The body is JSON with typed arrays and exact numbers (src/core/serialize.ts): agent state
 *   and observations are Float32Arrays, and a NaN loss must come back as NaN.
 * - Job ids are content hashes of (kind, protocol, code, body): the same job always has the same
 *   id, so a restarted coordinator re-attaches to a running or finished job instead of adding it
 *   again (BullMQ ignores an add with an existing id), and a job cannot be confused with another.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseWithArrays, stringifyWithArrays } from "../../core/serialize.ts";
import { PROJECT_ROOT } from "./paths.ts";

/** Version of the envelope and of the job bodies below. Bump on any change to them. */
export const PROTOCOL_VERSION = 1;

/** The BullMQ queue every coordinator and worker uses (under BullMQ's default key prefix `bull`). */
export const QUEUE_NAME = "augrl";

/** Job kinds: an episode of a parallel round, a benchmark cell. */
export type JobKind = "episode" | "cell";
export const JOB_KINDS: readonly JobKind[] = ["episode", "cell"];

/** A job's data as stored in Redis. */
export interface Envelope {
  protocol: number;
  code: string;
  kind: JobKind;
  /** For logs: e.g. "episode 3 (seed 9/episode-3)". */
  label: string;
  /** The job body, `encode`d. */
  body: string;
}

export const encode = (value: unknown): string => stringifyWithArrays(value, { exactNumbers: true });
export const decode = <T>(text: string): T => parseWithArrays<T>(text, { exactNumbers: true });

let cachedCode: string | undefined;

/**
 * The code's version: `<package version>+<commit>`, plus `.dirty-<digest of git diff HEAD>` when
 * tracked files have uncommitted changes (two machines with different edits on one commit must
 * not count as the same code), or the package version alone outside a git checkout.
 */
export function codeVersion(): string {
  if (cachedCode !== undefined) return cachedCode;
  const pkg = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
  const git = (args: string[]): string | null => {
    try {
      return execFileSync("git", args, { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "ignore"], maxBuffer: 256 * 2 ** 20, timeout: 20_000 }).toString();
    } catch {
      return null;
    }
  };
  const commit = git(["rev-parse", "HEAD"])?.trim();
  if (!commit) return (cachedCode = pkg);
  const diff = git(["diff", "HEAD", "--no-ext-diff", "--binary"]) ?? "";
  const dirty = diff === "" ? "" : `.dirty-${createHash("sha256").update(diff).digest("hex").slice(0, 12)}`;
  return (cachedCode = `${pkg}+${commit.slice(0, 12)}${dirty}`);
}

/** The job id of an envelope: its kind and a digest of everything that determines its result. */
export function jobId(e: Envelope): string {
  // BullMQ ids must not contain ":" (Redis key separator) nor look like integers.
  return `${e.kind}-${createHash("sha256").update(`${e.protocol}\n${e.code}\n${e.kind}\n${e.body}`).digest("hex").slice(0, 40)}`;
}

/** Why a worker must refuse this job's data, or null when it can run it. */
export function refusal(data: unknown, mine: { protocol: number; code: string }): string | null {
  const e = data as Partial<Envelope> | null;
  if (!e || typeof e !== "object" || typeof e.body !== "string" || typeof e.kind !== "string") {
    return "the job's data is not an augrl job envelope (protocol, code, kind, body); was it added by something other than rl-train?";
  }
  if (e.protocol !== mine.protocol) {
    return `the job speaks queue protocol ${show(e.protocol)} and this worker protocol ${mine.protocol}: run coordinator and workers from the same augrl version`;
  }
  if (e.code !== mine.code) {
    return `the job was made by code ${show(e.code)} and this worker runs ${mine.code}: check out the same commit (with the same uncommitted changes) on the coordinator and every worker, then restart the workers`;
  }
  if (!(JOB_KINDS as readonly string[]).includes(e.kind)) return `unknown job kind ${show(e.kind)}; this worker runs ${JOB_KINDS.join(", ")}`;
  return null;
}

const show = (v: unknown) => JSON.stringify(v) ?? String(v);
