/**
 * Backend selection. `selectBackend` keeps the first backend that initialises for the whole
 * process, so each fallback scenario runs in its own child process (test/fixtures/backend-probe.ts).
 * tfjs-node-gpu is an optional dependency that installs only where libtensorflow can be
 * downloaded, so the tests hold whichever backend wins on this machine: missing and broken
 * packages are simulated by pointing the module specifiers at a name that does not exist or at a
 * module that throws on import.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { BackendInfo } from "../src/tf/backend.ts";
import { activeBackend, BACKEND_CHOICES, selectBackend } from "../src/tf/backend.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const probe = path.join(root, "test/fixtures/backend-probe.ts");

type ProbeResult =
  | { ok: true; info: BackendInfo; tfBackend: string; product: number[][]; logged: string[] }
  | { ok: false; error: string; logged: string[] };

async function runProbe(args: object): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", probe, JSON.stringify(args)], { cwd: root, timeout: 60_000 });
  const last = stdout.trim().split("\n").pop()!;
  return JSON.parse(last) as ProbeResult;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-backend-"));
/** Like a tfjs-node whose libtensorflow is missing: the import itself throws, with a multi-line message. */
const brokenNative = path.join(tmp, "broken-native.mjs");
fs.writeFileSync(brokenNative, 'throw new Error("libtensorflow.so.2: cannot open shared object file\\n    at Module._extensions..node");\n');
/** A module that does not even parse: another error that is not ERR_MODULE_NOT_FOUND. */
const unparsable = path.join(tmp, "unparsable.mjs");
fs.writeFileSync(unparsable, "export const = ;\n");
const url = (file: string) => pathToFileURL(file).href;
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
/** Package names no registry has: importing them fails the way an uninstalled tfjs-node does. */
const MISSING = { gpu: "@augrl-test/missing-tfjs-node-gpu", node: "@augrl-test/missing-tfjs-node" };
const AUTO_ORDER = ["gpu", "node", "wasm", "cpu"];

test("auto on this machine: the winner is reported, every candidate before it skipped with a reason, and it computes", async () => {
  const r = await runProbe({ choice: "auto" });
  assert.ok(r.ok, JSON.stringify(r));
  if (!r.ok) return;
  const winner = AUTO_ORDER.indexOf(r.info.name);
  assert.ok(winner >= 0, `backend ${r.info.name}`);
  assert.equal(r.tfBackend, r.info.tfName);
  assert.equal(r.info.tfName, r.info.name === "gpu" || r.info.name === "node" ? "tensorflow" : r.info.name);
  assert.deepEqual(r.info.skipped.map((s) => s.name), AUTO_ORDER.slice(0, winner));
  for (const s of r.info.skipped) assert.ok(s.reason.length > 0 && s.reason.length <= 160 && !s.reason.includes("\n"), JSON.stringify(s));
  assert.deepEqual(r.product, [[17], [39]]);
  assert.equal(r.logged.length, 1);
  assert.match(r.logged[0]!, new RegExp(`tf backend: ${r.info.name} \\(${r.info.tfName}\\)`));
  for (const s of r.info.skipped) assert.ok(r.logged[0]!.includes(`${s.name}: ${s.reason}`), r.logged[0]);
});

test("auto falls back past missing tfjs-node-gpu and tfjs-node, records why, and computes", async () => {
  const r = await runProbe({ choice: "auto", ...MISSING });
  assert.ok(r.ok, JSON.stringify(r));
  if (!r.ok) return;
  assert.ok(r.info.name === "wasm" || r.info.name === "cpu", `backend ${r.info.name}`);
  assert.equal(r.tfBackend, r.info.tfName);
  assert.deepEqual(r.info.skipped.map((s) => s.name), ["gpu", "node"]);
  assert.match(r.info.skipped[0]!.reason, /missing-tfjs-node-gpu/);
  assert.match(r.info.skipped[1]!.reason, /missing-tfjs-node\b/);
  assert.deepEqual(r.product, [[17], [39]]);
  assert.equal(r.logged.length, 1);
  assert.match(r.logged[0]!, new RegExp(`tf backend: ${r.info.name}.*skipped gpu: .*node: `));
});

test("auto also falls back when a backend module throws something other than ERR_MODULE_NOT_FOUND", async () => {
  const r = await runProbe({ choice: "auto", gpu: url(brokenNative), node: url(unparsable) });
  assert.ok(r.ok, JSON.stringify(r));
  if (!r.ok) return;
  assert.ok(r.info.name === "wasm" || r.info.name === "cpu", `backend ${r.info.name}`);
  assert.deepEqual(r.info.skipped.map((s) => s.name), ["gpu", "node"]);
  // Only the first line of a multi-line error is kept: enough to say why, short enough for a config.
  assert.equal(r.info.skipped[0]!.reason, "libtensorflow.so.2: cannot open shared object file");
  assert.ok(r.info.skipped[1]!.reason.length > 0 && r.info.skipped[1]!.reason.length <= 160);
  assert.deepEqual(r.product, [[17], [39]]);
});

test("an explicit backend that fails is an error naming it and the way out, not a silent fallback", async () => {
  const [gpu, broken] = await Promise.all([runProbe({ choice: "gpu", gpu: MISSING.gpu }), runProbe({ choice: "node", node: url(brokenNative) })]);
  assert.ok(!gpu.ok);
  if (!gpu.ok) assert.match(gpu.error, /^`--backend gpu` failed to initialise: .*missing-tfjs-node-gpu.*Use `--backend auto` to fall back\.$/);
  assert.ok(!broken.ok);
  if (!broken.ok) assert.match(broken.error, /`--backend node` failed to initialise: libtensorflow\.so\.2: cannot open shared object file\. Use `--backend auto`/);
});

test("an explicit cpu choice runs cpu and skips nothing", async () => {
  const r = await runProbe({ choice: "cpu" });
  assert.ok(r.ok, JSON.stringify(r));
  if (!r.ok) return;
  assert.equal(r.info.name, "cpu");
  assert.equal(r.tfBackend, "cpu");
  assert.deepEqual(r.info.skipped, []);
  assert.deepEqual(r.product, [[17], [39]]);
});

test("an invalid backend name is rejected with the choices, before anything is initialised", async () => {
  await assert.rejects(
    selectBackend("tpu" as never, null),
    (e: Error) => e.message.includes("`--backend`") && e.message.includes('"tpu"') && BACKEND_CHOICES.every((c) => e.message.includes(c)),
  );
  assert.equal(activeBackend(), undefined);
});

test("the selected backend is kept for the process: auto after cpu stays cpu", async () => {
  const first = await selectBackend("cpu", null);
  assert.equal(first.name, "cpu");
  assert.equal(await selectBackend("auto", null), first);
  assert.equal(await selectBackend("cpu", null), first);
  assert.equal(activeBackend(), first);
});
