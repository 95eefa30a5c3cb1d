/**
 * Section 5, `monitor`: publish cost per event with 0 and N websocket clients, and a CPU-bound
 * fake training loop that publishes after every step, with 0 vs N clients (in a separate
 * process, bench/speed-clients.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/core/rng.ts";
import { MonitorServer } from "../../src/monitor/server.ts";
import type { RunStartInfo } from "../../src/record/hooks.ts";
import { makeStepRow } from "../../src/record/index.ts";
import { markdownTable } from "../report.ts";
import { fakeWork, mdRows, median, round } from "../speed-lib.ts";
import { ROOT, type SectionOutput, type SpeedContext } from "./context.ts";
import { makeRows } from "./rows.ts";

/** The ws client child process, driven line by line. */
class ClientsProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ event: string; resolve: (msg: Record<string, unknown>) => void }> = [];
  private exited = false;

  constructor(url: string, n: number, private readonly log: (line: string) => void) {
    this.child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../speed-clients.ts", import.meta.url)), url, String(n)], { cwd: ROOT });
    this.child.stderr.on("data", (d) => process.stderr.write(`[speed-clients] ${d}`));
    this.child.on("exit", () => (this.exited = true));
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === "error") this.log(`monitor client error: ${String(msg.message)}`);
      const i = this.waiting.findIndex((w) => w.event === msg.event);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(msg);
    });
  }

  request(cmd: string, event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`ws client process exited before \`${cmd}\``));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ws client process: no \`${event}\` reply to \`${cmd}\` within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({ event, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      this.child.stdin.write(cmd + "\n");
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.write("exit\n");
    const timer = setTimeout(() => this.child.kill(), 5000);
    await done;
    clearTimeout(timer);
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function benchMonitor(ctx: SpeedContext): Promise<SectionOutput> {
  const { opts, log } = ctx;
  const nClients = opts.monitorClients;
  const dim = opts.obsDim;
  const server = await MonitorServer.start({ port: 0, host: "127.0.0.1" });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const clients = new ClientsProcess(url, nClients, log);
  const rng = new Rng(opts.seed).child("monitor");
  let runNo = 0;
  const newRun = (): string => {
    const info: RunStartInfo = {
      run_id: `bench-monitor-${++runNo}`,
      observation_dim: dim,
      op_names: ["identity", "crop", "mask", "reorder", "substitute", "insert", "item-dropout"],
      config: { benchmark: "speed/monitor" },
      started_at: new Date().toISOString(),
    };
    server.onRunStart(info); // live mode: clears the event log, so each phase starts empty
    return info.run_id;
  };
  const subscribed = () => server.stats().clients.filter((c) => c.subscribed).length;
  const connect = async () => {
    await clients.request("connect", "connected");
    for (let i = 0; i < 500 && subscribed() < nClients; i++) await sleep(10);
  };
  const disconnect = async () => {
    await clients.request("disconnect", "disconnected");
    for (let i = 0; i < 500 && server.stats().clients.length > 0; i++) await sleep(10);
  };
  /** Wait until every client has received (or been told it skipped) `expected` step events. */
  const delivered = async (expected: number, timeoutMs = 120_000): Promise<{ steps: number[]; dropped: number[] }> => {
    const t = performance.now();
    for (;;) {
      const r = (await clients.request("report", "report")) as unknown as { steps: number[]; dropped: number[] };
      if (r.steps.every((s, i) => s + r.dropped[i]! >= expected)) return r;
      if (performance.now() - t > timeoutMs) throw new Error(`monitor: clients got ${r.steps.join(",")} of ${expected} step events after ${timeoutMs} ms`);
      await sleep(20);
    }
  };

  try {
    // (a) publish cost: a burst of pre-built step rows, 0 vs N clients.
    const N = opts.monitorEvents;
    // Untimed warm-up burst so the JIT has compiled publish (JSON.stringify of a row, log push).
    newRun();
    for (const row of makeRows(Math.min(N, 2000), dim, "warm-up", rng)) server.publish({ kind: "step", row });
    await tick();
    const publishRuns: Array<Record<string, string | number>> = [];
    for (const withClients of [false, true]) {
      const runId = newRun();
      const rows = makeRows(N, dim, runId, rng);
      if (withClients) await connect();
      const t0 = performance.now();
      for (const row of rows) server.publish({ kind: "step", row });
      const publishMs = performance.now() - t0;
      let deliverMs = 0;
      let dropped = 0;
      if (withClients) {
        const r = await delivered(N);
        deliverMs = performance.now() - t0;
        dropped = Math.max(...r.dropped);
        await disconnect();
      } else await tick();
      publishRuns.push({
        clients: withClients ? nClients : 0,
        events: N,
        publish_us_per_event: round((publishMs * 1000) / N, 2),
        delivered_all_ms: withClients ? round(deliverMs, 0) : "n/a",
        max_dropped_per_client: dropped,
      });
      log(`monitor: publish ${N} events with ${withClients ? nClients : 0} clients: ${publishRuns.at(-1)!.publish_us_per_event} µs/event`);
    }

    // (b) a CPU-bound fake training loop that publishes a step row after every step and yields
    // to the event loop (so the monitor sends while training runs); 0 and N clients alternate.
    const S = opts.monitorSteps;
    const loops: Array<{ clients: number; wall_s: number; cpu_s: number; ms_per_step: number; min_received: number; max_dropped: number }> = [];
    let sink = 0;
    for (let rep = 0; rep < opts.monitorReps; rep++) {
      for (const withClients of [false, true]) {
        const runId = newRun();
        if (withClients) await connect();
        const obs = Array.from({ length: dim }, () => rng.normal());
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < S; i++) {
          const loss = fakeWork(opts.monitorWork, i);
          sink += loss;
          server.publish({
            kind: "step",
            row: makeStepRow({ run_id: runId, episode: 0, step: i, ops: ["crop"], magnitudes: [0.2], train_loss: loss, observation: obs, wall_ms: performance.now() - t0 }),
          });
          await tick();
        }
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        let minReceived = S;
        let maxDropped = 0;
        if (withClients) {
          const r = await delivered(S);
          minReceived = Math.min(...r.steps);
          maxDropped = Math.max(...r.dropped);
          await disconnect();
        }
        loops.push({ clients: withClients ? nClients : 0, wall_s: round(wall, 3), cpu_s: round((cpu.user + cpu.system) / 1e6, 3), ms_per_step: round((wall * 1000) / S, 3), min_received: minReceived, max_dropped: maxDropped });
        log(`monitor: fake loop rep ${rep + 1} with ${withClients ? nClients : 0} clients: ${wall.toFixed(2)} s`);
      }
    }
    const wall0 = median(loops.filter((l) => l.clients === 0).map((l) => l.wall_s));
    const wallN = median(loops.filter((l) => l.clients > 0).map((l) => l.wall_s));
    const cpu0 = median(loops.filter((l) => l.clients === 0).map((l) => l.cpu_s));
    const cpuN = median(loops.filter((l) => l.clients > 0).map((l) => l.cpu_s));
    // Each rep runs 0 then N clients back to back: the paired ratio cancels slow drifts of the
    // background load better than the ratio of medians.
    const paired = loops.flatMap((l, i) => (l.clients > 0 ? [round(l.wall_s / loops[i - 1]!.wall_s, 3)] : []));
    const json = {
      clients: nClients,
      client_process: "a separate node process (bench/speed-clients.ts) that parses every message, as a browser tab would; on this machine it competes for the same 2 cores",
      publish: publishRuns,
      fake_loop: {
        steps: S,
        work_per_step: `fakeWork(${opts.monitorWork}) floating-point iterations`,
        publish: "one step row per step, then setImmediate (the monitor sends between steps)",
        reps: opts.monitorReps,
        runs: loops,
        wall_s_median_0_clients: wall0,
        wall_s_median_n_clients: wallN,
        wall_ratio: round(wallN / wall0, 3),
        paired_wall_ratios: paired,
        paired_wall_ratio_median: round(median(paired), 3),
        extra_cpu_ms_per_step: round(((cpuN - cpu0) * 1000) / S, 3),
        cpu_s_median_0_clients: cpu0,
        cpu_s_median_n_clients: cpuN,
        cpu_ratio: round(cpuN / cpu0, 3),
        note: `${round((wall0 * 1000) / S, 2)} ms per step is a stress case: an RL step trains at least one batch (tens to hundreds of ms), so the relative overhead there is smaller`,
        checksum: round(sink % 1000, 3),
      },
    };
    const md = [
      `Publish cost (burst of ${N} step events, ${dim}-float observations):`,
      "",
      markdownTable(mdRows(publishRuns)),
      "",
      `Fake CPU-bound training loop, ${S} steps of ${json.fake_loop.work_per_step}, publish + yield after each step, median of ${opts.monitorReps}: ` +
        `0 clients ${wall0.toFixed(2)} s, ${nClients} clients ${wallN.toFixed(2)} s → **wall ratio ${json.fake_loop.wall_ratio}** ` +
        `(paired per rep: ${paired.join(", ")}; median ${json.fake_loop.paired_wall_ratio_median}). ` +
        `Training-process CPU ratio ${json.fake_loop.cpu_ratio}, i.e. about ${json.fake_loop.extra_cpu_ms_per_step} ms more CPU per published step for sending to ${nClients} clients. ` +
        `The publish burst shows backpressure: a client more than 512 events behind skips step events (counted in \`dropped\`).`,
    ].join("\n");
    return { json, md };
  } finally {
    await clients.close();
    await server.close();
  }
}
