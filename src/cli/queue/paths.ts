/**
 * Files a job refers to (data set, titles, a warm-start model) on a worker that may be another
 * machine. A resolved env spec holds absolute paths of the coordinator's machine, so every such
 * path travels as a `FileRef`:
 * - inside the project root (the checkout that holds package.json, e.g. envs/data/beauty) it is
 *   sent relative to that root and the worker resolves it against its own checkout, wherever
 *   that is;
 * - outside it (e.g. /mnt/shared/beauty) it is sent as is: it must be mounted at the same path
 *   on every worker.
 * The spec file's own path (`source`) is only a label: rebased the same way, never checked.
 * Each ref carries the sha256 of every file under it; the worker checks them before it runs the
 * job, so a missing or different copy fails the job with one message naming the file and the fix
 * instead of training on other data. The data itself never goes over the wire.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout this code runs from (the folder with package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface FileRef {
  /** Key path of the value in the spec, e.g. ["dataset", "path"]. */
  at: string[];
  /** Path relative to the project root, when the file is inside it (POSIX separators). */
  project?: string;
  /** The coordinator's absolute path (used when the file is outside the project root). */
  absolute: string;
  /** sha256 per file, by path relative to the ref (`""` for a single file); absent for labels (never checked). */
  files?: Record<string, string>;
}

/** A file reference could not be satisfied on this machine: running the job elsewhere or again would not help. */
export class MissingData extends Error {}

/** Keys whose values are labels, not inputs: rebased for messages but never checked. */
const LABEL_KEYS = new Set(["source"]);

/**
 * The file references of a spec (every string value that is an existing absolute path on this
 * machine), with their checksums. The spec itself is not changed.
 */
export function fileRefs(spec: unknown, root = PROJECT_ROOT): FileRef[] {
  const refs: FileRef[] = [];
  walk(spec, [], (at, value) => {
    if (!path.isAbsolute(value)) return;
    const label = LABEL_KEYS.has(at.at(-1)!);
    if (!label && !fs.existsSync(value)) return;
    const rel = path.relative(root, value);
    const inside = rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
    if (label && !inside) return;
    refs.push({ at, ...(inside ? { project: rel.split(path.sep).join("/") } : {}), absolute: value, ...(label ? {} : { files: fingerprint(value) }) });
  });
  return refs;
}

/**
 * A copy of `spec` whose file references point at this machine's files, after checking that
 * each exists and has the coordinator's checksums. Label keys inside the project root are
 * rebased too. Throws `MissingData` naming the key, the path and the fix.
 */
export function localizeSpec<T>(spec: T, refs: FileRef[], root = PROJECT_ROOT): T {
  const out = structuredClone(spec);
  const local = (ref: Pick<FileRef, "project" | "absolute">) => (ref.project !== undefined ? path.join(root, ...ref.project.split("/")) : ref.absolute);
  for (const ref of refs) {
    const where = local(ref);
    const key = ref.at.join(".");
    if (ref.files === undefined) {
      setAt(out, ref.at, where);
      continue;
    }
    const host = os.hostname();
    const shown = ref.project !== undefined ? `${ref.project} (under the project root ${root})` : where;
    if (!fs.existsSync(where)) {
      throw new MissingData(`\`${key}\`: ${shown} does not exist on worker ${host}; ` +
        (ref.project !== undefined
          ? "run the worker from a checkout that has this file (data under envs/data ships with the repository; files the coordinator made, e.g. a warm-start model, must be copied to the same place)"
          : "files outside the coordinator's project root must be mounted at the same absolute path on every worker (or moved under the project root)"));
    }
    const mine = fingerprint(where);
    for (const [name, sum] of Object.entries(ref.files)) {
      const file = name === "" ? shown : `${shown}/${name}`;
      if (mine[name] === undefined) throw new MissingData(`\`${key}\`: ${file} is missing on worker ${host}; copy the coordinator's file there`);
      if (mine[name] !== sum) throw new MissingData(`\`${key}\`: ${file} on worker ${host} differs from the coordinator's copy (sha256 ${mine[name]!.slice(0, 12)}… vs ${sum.slice(0, 12)}…); make both copies the same file`);
    }
    setAt(out, ref.at, where);
  }
  return out;
}

/**
 * A copy of `spec` with every absolute path under `fromRoot` moved under `toRoot` (a run folder
 * resumed in another checkout: its config holds the first checkout's paths). Paths outside
 * `fromRoot` are kept.
 */
export function rebaseSpec<T>(spec: T, fromRoot: string, toRoot: string): T {
  const out = structuredClone(spec);
  walk(spec, [], (at, value) => {
    if (!path.isAbsolute(value)) return;
    const rel = path.relative(fromRoot, value);
    if (rel.startsWith("..") || path.isAbsolute(rel)) return;
    setAt(out, at, path.join(toRoot, rel));
  });
  return out;
}

function walk(value: unknown, at: string[], visit: (at: string[], value: string) => void): void {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === "string") visit([...at, k], v);
    else walk(v, [...at, k], visit);
  }
}

function setAt(obj: unknown, keys: string[], v: string): void {
  let o = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys.at(-1)!] = v;
}

const sums = new Map<string, string>();

/** sha256 of a file, or of every file under a folder (by relative path, sorted); cached by size and mtime. */
export function fingerprint(p: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (abs: string, rel: string) => {
    const st = fs.statSync(abs);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) visit(path.join(abs, name), rel === "" ? name : `${rel}/${name}`);
      return;
    }
    const key = `${abs}\0${st.size}\0${st.mtimeMs}`;
    let sum = sums.get(key);
    if (sum === undefined) sums.set(key, (sum = createHash("sha256").update(fs.readFileSync(abs)).digest("hex")));
    out[rel] = sum;
  };
  visit(p, "");
  return out;
}
