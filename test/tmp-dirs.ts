/** Temp folders for a test file, removed when the file's tests end (not a test file itself). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";

/** A function that makes a fresh temp folder named `augrl-<prefix>-…`; all of them go at `after`. */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `augrl-${prefix}-`));
    made.push(d);
    return d;
  };
}
