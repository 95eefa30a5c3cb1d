/**
 * The layering rule of the README's Architecture section, checked on the sources: no file in
 * src/ imports from a layer above its own, and imports name their module literally (a specifier
 * in a variable would hide an upward import from this test and from every other tool).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const LAYERS = ["core", "tf", "data", "augment", "models", "env", "agents", "record", "monitor", "cli"];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.(ts|mts|mjs)$/.test(e.name) ? [p] : [];
  });
}
const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

test("no layer imports one above it", () => {
  const upward: string[] = [];
  for (const file of sources(SRC)) {
    const from = LAYERS.indexOf(layerOf(file));
    if (from < 0) continue; // src/index.ts-style files at the root may re-export any layer
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = path.resolve(path.dirname(file), m[1]!);
      if (!target.startsWith(SRC)) continue;
      const to = LAYERS.indexOf(layerOf(target));
      if (to > from) upward.push(`${path.relative(SRC, file)} imports ${m[1]} (${LAYERS[from]} → ${LAYERS[to]})`);
    }
  }
  assert.deepEqual(upward, []);
});

/** The two imports that take a name from data, and why that is no hidden dependency. */
const INDIRECT: Record<string, string> = {
  // Backend packages are looked up by name so tests can stand in a missing one.
  "tf/backend.ts: import(backendModules[name])": "npm packages, not project modules",
  // The thread's entry module, named by the pool that starts the worker (a literal URL there).
  "core/worker-bootstrap.mjs: import(workerData.module)": "worker entry",
};

test("dynamic imports of project modules name them literally", () => {
  const hidden: string[] = [];
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bimport\s*\(\s*([^"'`\s)][^)]*)\)/g)) {
      const where = `${path.relative(SRC, file).split(path.sep).join("/")}: import(${m[1]})`;
      if (!(where in INDIRECT)) hidden.push(where);
    }
  }
  assert.deepEqual(hidden, []);
});
