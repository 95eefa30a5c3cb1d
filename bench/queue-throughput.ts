/**
 * Throughput of `rl-train run --queue` with 1 and with 2 `rl-train worker` processes on this
 * machine, against the same run on local threads (no queue).
 *
 *   npm run bench:queue -- [--env envs/beauty-1k-sasrec.json] [--agent policies/random.json]
 *       [--episodes 4] [--parallel-episodes 2] [--seed 9] [--workers 1,2] [--threads auto|N] [--name queue-throughput]
 *
 * Starts its own redis-server on a free loopback port (no persistence) and empties it before
 * every measured run: job ids are content hashes, so a second run of the same command would
 * otherwise take every result from the first. Each measured run is the `rl-train run` command
 * as a user types it (its wall time includes starting the process, loading the data and the
 * learning between rounds); the workers are started and connected before the clock starts.
 * Each worker count is timed twice: right after the workers started ("cold": each worker's
 * first job also starts its job thread, a few seconds) and then again with the same workers
 * ("warm", as long-lived workers are); the throughput ratio compares the warm runs.
 * Checks that every run wrote the same steps and episodes (wall-clock columns and run ids aside).
 * Output: bench/results/<name>.json and .md, with the machine's load average before and after.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { readArrowStream } from "../src/record/recorder.ts";
import { markdownTable, provenance, writeResult } from "./report.ts";
import { startRedis, startWorkerProcess } from "../test/queue-helpers.ts";

const { values: a } = parseArgs({
  options: {
    env: { type: "string", default: "envs/beauty-1k-sasrec.json" },
    agent: { type: "string", default: "policies/random.json" },
    episodes: { type: "string", default: "4" },
    "parallel-episodes": { type: "string", default: "2" },
    seed: { type: "string", default: "9" },
    workers: { type: "string", default: "1,2" },
    // Each worker's --threads (helper threads per job): auto lets one worker use every core for evaluation.
    threads: { type: "string", default: "auto" },
    name: { type: "string", default: "queue-throughput" },
  },
});

const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-queue-bench-"));
const runArgs = ["run", "--env", a.env!, "--agent", a.agent!, "--episodes", a.episodes!, "--parallel-episodes", a["parallel-episodes"]!, "--seed", a.seed!];

/** Run `rl-train …args`; its wall time in seconds and its run folder. */
async function timed(args: string[]): Promise<{ wall_s: number; runDir: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["bin/rl-train.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  if (code !== 0) throw new Error(`rl-train ${args.join(" ")} failed (exit ${code}):\n${err}`);
  return { wall_s: (performance.now() - t0) / 1000, runDir: /run folder: (.*)/.exec(out)![1]!.trim() };
}

const rows = (dir: string, file: string) =>
  readArrowStream<Record<string, unknown>>(path.join(dir, file)).rows.map((r) => {
    const { wall_ms: _w, run_id: _r, duration_s: _d, ...rest } = r;
    return JSON.stringify(rest, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : typeof v === "bigint" ? String(v) : v));
  });

const redis = await startRedis();
if (!redis) throw new Error("redis-server missing: apt-get install -y redis-server");
const measured: Array<{ setup: string; workers: number | null; warm: boolean; wall_s: number; load_before: number[]; load_after: number[]; runDir: string }> = [];
try {
  {
    const before = load();
    const r = await timed([...runArgs, "--out", path.join(tmp, "local")]);
    measured.push({ setup: "local threads (no --queue)", workers: null, warm: false, wall_s: r.wall_s, load_before: before, load_after: load(), runDir: r.runDir });
    console.error(`[queue-bench] local: ${r.wall_s.toFixed(1)} s`);
  }
  const flush = async () => {
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
  };
  for (const n of a.workers!.split(",").map(Number)) {
    await flush();
    const workers = await Promise.all(Array.from({ length: n }, () => startWorkerProcess(redis.url, ["--threads", a.threads!])));
    try {
      for (const warm of [false, true]) {
        await flush();
        const before = load();
        const r = await timed([...runArgs, "--queue", redis.url, "--out", path.join(tmp, `queue-${n}-${warm ? "warm" : "cold"}`)]);
        measured.push({ setup: `--queue, ${n} worker process(es), ${warm ? "warm" : "cold"}`, workers: n, warm, wall_s: r.wall_s, load_before: before, load_after: load(), runDir: r.runDir });
        console.error(`[queue-bench] ${n} worker(s), ${warm ? "warm" : "cold"}: ${r.wall_s.toFixed(1)} s`);
      }
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }
} finally {
  await redis.stop();
}

const reference = measured[0]!;
const identical = measured.every((m) => ["steps.arrows", "episodes.arrows"].every((f) => JSON.stringify(rows(m.runDir, f)) === JSON.stringify(rows(reference.runDir, f))));
const one = measured.find((m) => m.workers === 1 && m.warm);
const two = measured.find((m) => m.workers === 2 && m.warm);
const ratio = one && two ? one.wall_s / two.wall_s : null;
const prov = provenance();
const uptimeAtEnd = uptime();
const json = {
  command: prov.command, worker_threads: a.threads, run_command: `rl-train ${runArgs.join(" ")} [--queue URL]`, machine: prov.machine, cpus: prov.cpus, node: prov.node, commit: prov.commit, dirty: prov.dirty, date: prov.date,
  uptime_at_end: uptimeAtEnd,
  results: measured.map(({ runDir: _r, ...m }) => m),
  throughput_ratio_2_vs_1_workers: ratio,
  identical_steps_and_episodes: identical,
};
const md = [
  "# Queue throughput: 1 vs 2 `rl-train worker` processes on one machine", "",
  `Run: \`rl-train ${runArgs.join(" ")} [--queue URL]\`; ${prov.machine}, Node ${prov.node}, commit ${prov.commit}${prov.dirty ? " (uncommitted changes)" : ""}, ${prov.date}.`,
  `Command: \`${prov.command}\`. Workers: \`rl-train worker --queue URL --concurrency 1 --threads ${a.threads}\`; redis-server on loopback.`, "",
  markdownTable(measured.map((m) => ({ setup: m.setup, "wall s": m.wall_s.toFixed(1), "load avg before (1/5/15 min)": m.load_before.join(" / "), "load avg after": m.load_after.join(" / ") }))), "",
  ratio === null ? "" : `Throughput ratio, 2 warm workers vs 1 (wall time with 1 ÷ wall time with 2): **${ratio.toFixed(2)}**.`,
  `Steps and episodes identical in every run (wall-clock columns and run ids aside): ${identical ? "yes" : "NO"}.`,
  `Machine load at the end: \`${uptimeAtEnd}\`.`,
].join("\n");
writeResult(a.name!, json, md);
console.log(md);
fs.rmSync(tmp, { recursive: true, force: true });
if (!identical) process.exit(1);
