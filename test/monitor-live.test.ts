// The live monitor during a real `rl-train run` in the default mode (one episode, training on the
// main thread): the server must answer and stream steps while a step is still training.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, it } from "node:test";
import { freePort, rawRequest, TestClient, waitFor, wsUrl } from "./monitor-helpers.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-live-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** GET /healthz; the status, or an error after `ms` without an answer. */
async function health(port: number, ms: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(ms) });
  await res.arrayBuffer();
  return res.status;
}

it("answers /healthz within 1 s and streams each step while the next one trains", async () => {
  const port = await freePort();
  // Each step of this env trains 64 batches (about a second or more here): long enough that a
  // monitor sharing the training thread would not answer until the run ends.
  const child = spawn(process.execPath, [
    "bin/rl-train.js", "run", "--env", "test/fixtures/env/slow-steps.json", "--agent", "policies/random.json",
    "--seed", "3", "--out", tmp, "--backend", "wasm", "--train-threads", "1", "--eval-threads", "1", "--monitor", String(port),
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const order: string[] = [];
  const probes: number[] = [];
  let client: TestClient | undefined;
  try {
    await waitFor(() => /monitor: http/.test(stderr), "the monitor URL on stderr", 3000);
    client = await new TestClient(wsUrl(port)).open();
    client.ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; row?: { step: number } };
      if (m.type === "step") {
        order.push(`step${m.row!.step}`);
        // Asked as soon as step 0 arrives: the answer must come while step 1 is training.
        if (m.row!.step === 0) void health(port, 1000).then((s) => order.push(`health${s}`), () => order.push("health-timeout"));
      } else if (m.type === "episode") order.push("episode");
    });
    client.subscribe();
    // A request target that `new URL` rejects once ended the monitor and the run with it.
    assert.equal(await rawRequest(port, "//[", false), 400);
    assert.equal(await rawRequest(port, "//[", true), 400);
    // Probe every 200 ms until the episode row arrives: every probe must be answered within 1 s.
    while (!order.includes("episode")) {
      const t0 = performance.now();
      assert.equal(await health(port, 1000), 200);
      probes.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
      if (child.exitCode !== null) break;
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(probes.length >= 3, `probed while training (${probes.length} probes)`);
    const s0 = order.indexOf("step0");
    const s1 = order.indexOf("step1");
    assert.ok(s0 >= 0 && s1 > s0, `steps streamed in order: ${order.join(" ")}`);
    const answered = order.indexOf("health200");
    assert.ok(answered > s0 && answered < s1, `/healthz answered between step 0 and step 1: ${order.join(" ")}`);
    assert.ok(order.indexOf("step2") < order.indexOf("episode"), `every step before the episode row: ${order.join(" ")}`);
  } finally {
    client?.close();
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
