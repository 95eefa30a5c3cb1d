/**
 * Turning zod validation failures into messages that name the file, the key path, the value
 * received and the fix, the way every spec loader in augrl reports errors.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) v = v != null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** One line per issue: `key.path`: what is wrong; got <value>. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], value: unknown): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `  \`${[...path, k].join(".")}\`: unknown key; remove it or fix its spelling`).join("\n");
    }
    const got = at(value, issue.path);
    return `  \`${path.join(".") || "(root)"}\`: ${issue.message}; got ${got === undefined ? "nothing" : JSON.stringify(got)}`;
  });
}

/** Parse `value` with `schema`, or throw `source: invalid <what>` plus one line per issue. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, source: string, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new Error(`${source}: invalid ${what}\n${describeIssues(result.error.issues, value).join("\n")}`);
}

/** Read a JSON file; errors name the file, what it should hold (e.g. `env spec`) and a hint. */
export function readJsonFile(path: string, what: string, hint = ""): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: cannot read ${what} (${(e as Error).message})${hint ? `; ${hint}` : ""}`);
  }
  // Editors on Windows may save a UTF-8 byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}
