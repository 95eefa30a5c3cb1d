import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { WebSocket } from "ws";
import { Rng } from "../src/core/rng.ts";
import { MonitorServer } from "../src/monitor/server.ts";
import { runMonitor } from "../src/monitor/run-monitor.ts";
import { HookList, RunRecorder, type StepRow } from "../src/record/index.ts";
import { playSynthetic, syntheticRun } from "../src/record/synthetic.ts";
import { rawRequest, TestClient, waitFor, wsUrl } from "./monitor-helpers.ts";

const run = syntheticRun(new Rng(3), { episodes: 3, stepsPerEpisode: 20 });
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-monitor-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Start a server on a free loopback port; closed by the caller in `finally`. */
const start = (opts: Parameters<typeof MonitorServer.start>[0] = {}) => MonitorServer.start({ port: 0, heartbeatMs: 50, ...opts });

describe("MonitorServer protocol", () => {
  it("round-trips hello, step, episode, end and heartbeat; control echoes state", async () => {
    const server = await start();
    const c = new TestClient(wsUrl(server.port));
    try {
      await c.open();
      c.subscribe();
      await waitFor(() => c.of("hello").length === 1, "hello before the run");
      assert.equal(c.of("hello")[0]!.run, null);
      playSynthetic(run, server);
      const total = run.events.length + 1;
      await waitFor(() => c.of("end").length === 1, "end event");
      const hellos = c.of("hello");
      assert.equal(hellos.length, 2, "a new hello when the run starts");
      assert.equal(hellos[1]!.protocol, 1);
      assert.equal(hellos[1]!.run_id, "synthetic");
      assert.deepEqual(hellos[1]!.run, json(run.info));
      const events = c.messages.filter((m) => m.type === "step" || m.type === "episode" || m.type === "end");
      assert.equal(events.length, total);
      events.forEach((m, i) => assert.equal((m as { seq: number }).seq, i));
      assert.deepEqual(c.of("step").map((m) => m.row), json(run.steps));
      assert.deepEqual(c.of("episode").map((m) => m.row), json(run.episodes));
      assert.ok(c.of("step").every((m) => m.dropped === 0));
      await waitFor(() => c.of("heartbeat").some((h) => h.playback.total === total), "heartbeat with the event count");
      assert.equal(c.of("heartbeat").at(-1)!.dropped, 0);
      c.send({ type: "control", action: "pause" });
      await waitFor(() => c.of("state").some((s) => s.playback.paused), "paused state");
    } finally {
      c.close();
      await server.close();
    }
  });

  it("sends history to late joiners and resumes a reconnecting client from `from`", async () => {
    const server = await start();
    try {
      playSynthetic(run, server);
      const late = await new TestClient(wsUrl(server.port)).open();
      late.subscribe();
      const again = await new TestClient(wsUrl(server.port)).open();
      again.subscribe(30);
      await waitFor(() => late.of("end").length === 1 && again.of("end").length === 1, "both clients reach the end");
      assert.equal(late.of("step").length, run.steps.length);
      const seqs = again.messages.filter((m) => "seq" in m).map((m) => (m as { seq: number }).seq);
      assert.equal(seqs[0], 30);
      assert.equal(seqs.length, run.events.length + 1 - 30);
      late.close();
      again.close();
    } finally {
      await server.close();
    }
  });

  it("serves 50 concurrent clients every event", async () => {
    const server = await start();
    const clients = Array.from({ length: 50 }, () => new TestClient(wsUrl(server.port)));
    try {
      await Promise.all(clients.map((c) => c.open()));
      for (const c of clients) c.subscribe();
      await waitFor(() => server.stats().clients.filter((s) => s.subscribed).length === 50, "50 subscriptions");
      playSynthetic(run, server);
      await waitFor(() => clients.every((c) => c.of("end").length === 1), "all 50 clients reach the end");
      for (const c of clients) {
        assert.equal(c.of("step").length, run.steps.length);
        assert.equal(c.of("episode").length, run.episodes.length);
      }
    } finally {
      for (const c of clients) c.close();
      await server.close();
    }
  });

  it("a slow client never blocks publishing: bounded lag, dropped counter, same publish work per event", async () => {
    const big = syntheticRun(new Rng(11), { episodes: 12, stepsPerEpisode: 1000, observationDim: 32 });
    const maxQueue = 64;
    const highWaterBytes = 64 * 1024;

    /**
     * Publish like a training loop (chunks of 100 events, yielding to the event loop between
     * chunks) and count the work done inside the publish calls themselves: JSON serialisations and
     * socket sends. Counted, not timed, so the result does not depend on the machine's load.
     */
    async function publishAll(server: MonitorServer): Promise<{ serialisations: number; socketSends: number; logGrowth: number }> {
      const stringify = JSON.stringify;
      const send = WebSocket.prototype.send;
      let serialisations = 0;
      let socketSends = 0;
      const returned: unknown[] = [];
      const logStart = server.stats().logEnd;
      for (let i = 0; i < big.events.length; i += 100) {
        JSON.stringify = ((...args: Parameters<typeof stringify>) => (serialisations++, stringify(...args))) as typeof JSON.stringify;
        WebSocket.prototype.send = function (this: WebSocket, ...args: unknown[]) {
          socketSends++;
          return (send as (...a: unknown[]) => void).apply(this, args);
        } as typeof send;
        try {
          for (const e of big.events.slice(i, i + 100)) returned.push(e.kind === "step" ? server.onStep(e.row) : server.onEpisode(e.row));
        } finally {
          JSON.stringify = stringify;
          WebSocket.prototype.send = send;
        }
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(returned.every((r) => r === undefined), "publish returns synchronously, no promise to wait on");
      return { serialisations, socketSends, logGrowth: server.stats().logEnd - logStart };
    }

    const work: Record<string, Awaited<ReturnType<typeof publishAll>>> = {};
    for (const withSlow of [false, true]) {
      const server = await start({ maxQueue, highWaterBytes, tickMs: 5 });
      const fast = await new TestClient(wsUrl(server.port)).open();
      const slow = withSlow ? await new TestClient(wsUrl(server.port)).open() : null;
      try {
        fast.subscribe();
        slow?.subscribe();
        await waitFor(() => server.stats().clients.every((s) => s.subscribed), "subscriptions");
        // The slow client stops reading its socket: the kernel buffers fill, then ws buffers.
        (slow?.ws as unknown as { _socket?: { pause(): void } } | undefined)?._socket?.pause();
        server.onRunStart(big.info);
        work[withSlow ? "with slow client" : "without slow client"] = await publishAll(server);
        server.onRunEnd({ run_id: big.info.run_id, status: "completed", episodes: 12, steps: 12_000, duration_s: 1 });
        await waitFor(() => fast.of("end").length === 1, "fast client reaches the end", 3000);
        assert.equal(fast.of("step").length, big.steps.length, "the fast client gets everything");
        if (slow) {
          const st = server.stats().clients.find((s) => s.id !== 1)!;
          assert.ok(st.dropped > 0, `slow client has dropped updates (dropped=${st.dropped})`);
          assert.ok(st.lag <= maxQueue, `slow client's lag stays bounded (${st.lag} <= ${maxQueue})`);
          assert.ok(st.bufferedAmount < highWaterBytes + 64 * 1024, `its send buffer stays bounded (${st.bufferedAmount} bytes)`);
          // Let it read again: it catches up with gaps, told how many steps it missed.
          (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
          await waitFor(() => slow.of("end").length === 1, "slow client reaches the end", 3000);
          const steps = slow.of("step");
          assert.ok(steps.length < big.steps.length);
          assert.equal(steps.at(-1)!.dropped + steps.length, big.steps.length, "every step is either delivered or counted as dropped");
          assert.equal(slow.of("episode").length, big.episodes.length, "episodes are never dropped");
        }
      } finally {
        fast.close();
        slow?.close();
        await server.close();
      }
    }
    // Publishing is one serialisation and one log entry per event, and never a socket write,
    // however many clients there are and however far behind one of them is.
    const expected = { serialisations: big.events.length, socketSends: 0, logGrowth: big.events.length };
    assert.deepEqual(work, { "without slow client": expected, "with slow client": expected });
  });

  it("answers every invalid message with an error frame, stays open, and closes oversized frames with 1009", async () => {
    const server = await start({ maxPayload: 1024 });
    try {
      const cases: Array<[string, (c: TestClient) => void, string]> = [
        ["binary", (c) => c.ws.send(Buffer.from([1, 2, 3])), "invalid-message"],
        ["not JSON", (c) => c.ws.send("{nope"), "invalid-message"],
        ["unknown type", (c) => c.send({ type: "launch-missiles" }), "invalid-message"],
        ["bad field", (c) => c.send({ type: "control", action: "speed", speed: -1 }), "invalid-message"],
        ["subscribe without protocol", (c) => c.send({ type: "subscribe" }), "protocol-version"],
        ["subscribe with a string protocol", (c) => c.send({ type: "subscribe", protocol: "1" }), "protocol-version"],
        ["JSON null", (c) => c.ws.send("null"), "invalid-message"],
      ];
      for (const [name, act, code] of cases) {
        const c = await new TestClient(wsUrl(server.port)).open();
        act(c);
        await waitFor(() => c.of("error").length === 1, `error frame for ${name}`);
        assert.equal(c.of("error")[0]!.code, code, name);
        // Still open and usable after the error.
        c.subscribe();
        await waitFor(() => c.of("hello").length === 1, `hello after ${name}`);
        assert.equal(c.closeCode, null, name);
        c.close();
      }
      const big = await new TestClient(wsUrl(server.port)).open();
      big.ws.send("x".repeat(2000));
      assert.equal(await big.closed(), 1009, "oversized");
      const ok = await new TestClient(wsUrl(server.port)).open();
      ok.subscribe();
      await waitFor(() => ok.of("hello").length === 1, "server still answers after bad clients");
      ok.close();
    } finally {
      await server.close();
    }
  });

  it("answers 400 to request targets that do not parse, on plain requests and upgrades, and stays up (fuzzed)", async () => {
    const server = await start();
    const rng = new Rng("request-line-fuzz");
    const alphabet = "/[]@:%?#\\.~!$&'()*+,;=-_ abcAZ09\u00e9";
    const targets = ["//[", "//[/ws", "http://[", "//a:b@[::1", "/%", "//%zz", "//:99999", "http://x:-1/", "//@", "/ws?token=%"];
    for (let i = 0; i < 60; i++) {
      const n = 1 + rng.int(12);
      targets.push("/" + Array.from({ length: n }, () => alphabet[rng.int(alphabet.length)]).join(""));
    }
    try {
      for (const target of targets) {
        for (const upgrade of [false, true]) {
          const status = await rawRequest(server.port, target, upgrade);
          // Node's parser may refuse some targets itself (no status, connection closed): fine, as
          // long as the server lives. A parsed target gets a real HTTP answer.
          if (status !== null) assert.ok([101, 200, 400, 401, 404].includes(status), `${JSON.stringify(target)} upgrade=${upgrade}: ${status}`);
        }
      }
      assert.equal(await rawRequest(server.port, "//[", false), 400);
      assert.equal(await rawRequest(server.port, "//[", true), 400);
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      assert.equal(health.status, 200, "still serving after the fuzzed requests");
    } finally {
      await server.close();
    }
  });

  it("requires a token off loopback: 401 on page and upgrade without it", async () => {
    const server = await start({ host: "0.0.0.0" });
    try {
      assert.ok(server.token && server.token.length >= 16, "a token is generated");
      assert.ok(server.url.includes(`token=${server.token}`));
      const base = `http://127.0.0.1:${server.port}/`;
      assert.equal((await fetch(base)).status, 401);
      assert.equal((await fetch(`${base}?token=wrong-token-value`)).status, 401);
      const page = await fetch(`${base}?token=${server.token}`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /augrl monitor/);
      for (const bad of [null, "wrong-token-value"]) {
        const c = new TestClient(wsUrl(server.port, bad));
        await c.closed();
        assert.equal(c.httpStatus, 401, `upgrade with token ${bad}`);
      }
      const good = await new TestClient(wsUrl(server.port, server.token)).open();
      assert.equal(good.opened, true);
      good.close();
    } finally {
      await server.close();
    }
    const local = await start();
    try {
      assert.equal(local.token, null);
      assert.equal((await fetch(`http://127.0.0.1:${local.port}/`)).status, 200);
    } finally {
      await local.close();
    }
  });
});

describe("runMonitor", () => {
  it("replays a finished run at a controlled speed, with pause, speed and seek", async () => {
    const dir = path.join(tmp, "finished");
    playSynthetic(run, new RunRecorder(dir, { stepRowsPerBatch: 8, fsync: false }));
    // Synthetic steps are ~60 ms of recorded time apart; at 0.001x nothing after the first is due for a minute.
    const m = await runMonitor({ runDir: dir, port: 0, speed: 0.001 });
    const c = await new TestClient(wsUrl(m.server.port)).open();
    try {
      assert.equal(m.mode, "replay");
      c.subscribe();
      await waitFor(() => c.of("hello").length === 1 && c.of("step").length >= 1, "hello and the first step");
      assert.equal(c.of("hello")[0]!.mode, "replay");
      assert.ok(c.of("step").length < 5, "paced replay holds back later events");
      c.send({ type: "control", action: "speed", speed: null });
      await waitFor(() => c.of("end").length === 1, "full speed reaches the end");
      assert.deepEqual(c.of("step").map((s) => s.row), json(run.steps).map((r: StepRow) => ({ ...r, magnitude: Math.fround(r.magnitude), magnitudes: r.magnitudes.map(Math.fround), observation: Array.from(r.observation, Math.fround) })));
      // Episode rows come right after their episode's last step.
      const order = c.messages.filter((x) => x.type === "step" || x.type === "episode").map((x) => x.type[0]).join("");
      assert.equal(order, ("s".repeat(20) + "e").repeat(3));
      const before = c.messages.length;
      c.send({ type: "control", action: "seek", position: 10 });
      await waitFor(() => c.of("reset").length === 1 && c.of("end").length === 2, "seek re-sends the run");
      const after = c.messages.slice(before).filter((x) => "seq" in x).map((x) => (x as { seq: number }).seq);
      assert.equal(after[0], 0);
    } finally {
      c.close();
      await m.stop();
    }
  });

  it("follows a run in progress by polling its growing files", async () => {
    const dir = path.join(tmp, "in-progress");
    const recorder = new RunRecorder(dir, { stepRowsPerBatch: 4, fsync: false });
    recorder.onRunStart(run.info);
    for (const e of run.events.slice(0, 21)) e.kind === "step" ? recorder.onStep(e.row) : recorder.onEpisode(e.row);
    const m = await runMonitor({ runDir: dir, port: 0, pollMs: 10 });
    const c = await new TestClient(wsUrl(m.server.port)).open();
    try {
      assert.equal(m.mode, "follow");
      c.subscribe();
      await waitFor(() => c.of("episode").length === 1, "first episode while the run goes on");
      assert.equal(c.of("step").length, 20);
      for (const e of run.events.slice(21)) e.kind === "step" ? recorder.onStep(e.row) : recorder.onEpisode(e.row);
      recorder.onRunEnd({ run_id: "synthetic", status: "completed", episodes: 3, steps: 60, duration_s: 1 });
      await waitFor(() => c.of("end").length === 1, "the end after summary.json appears");
      await m.loaded;
      assert.equal(c.of("step").length, 60);
      assert.equal(c.of("end")[0]!.summary.status, "completed");
    } finally {
      c.close();
      await m.stop();
    }
  });

  it("streams after recording when both are hooks (HookList order)", async () => {
    const dir = path.join(tmp, "live");
    const server = await start();
    const c = await new TestClient(wsUrl(server.port)).open();
    try {
      c.subscribe();
      const seenOnDisk: number[] = [];
      const recorder = new RunRecorder(dir, { stepRowsPerBatch: 1, fsync: false });
      // A probe after the recorder checks the file already holds the row being streamed.
      const probe = { onStep: (row: StepRow) => void seenOnDisk.push(recorder.counts().steps - (row.step + row.episode * 20) - 1) };
      playSynthetic(run, new HookList([recorder, probe, server]));
      await waitFor(() => c.of("end").length === 1, "end");
      assert.ok(seenOnDisk.every((d) => d === 0));
      assert.equal(c.of("step").length, 60);
    } finally {
      c.close();
      await server.close();
    }
  });
});
