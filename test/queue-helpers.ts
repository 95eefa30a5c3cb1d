/** Shared helpers of the queue tests (not a test file itself): a throw-away redis-server and worker processes. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { freePort, waitFor } from "./monitor-helpers.ts";

export const REDIS_MISSING = "redis-server missing: install Debian's redis-server (apt-get install -y redis-server; .ci/run does) to run the queue tests";

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** Start `redis-server` on a free loopback port without persistence, or return null when the binary is missing. */
export async function startRedis(): Promise<TestRedis | null> {
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).error) return null;
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  await waitFor(() => /Ready to accept connections/.test(out) || child.exitCode !== null, "redis-server to start", 1000);
  if (child.exitCode !== null) throw new Error(`redis-server exited (code ${child.exitCode}): ${out}`);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopChild(child),
  };
}

/** An `rl-train worker` child process and what it has written to stderr so far. */
export interface TestWorker {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Start `rl-train worker --queue url …extra` and wait until it takes jobs. */
export async function startWorkerProcess(url: string, extra: string[] = []): Promise<TestWorker> {
  const child = spawn(process.execPath, ["bin/rl-train.js", "worker", "--queue", url, ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  await waitFor(() => /takes jobs/.test(err) || child.exitCode !== null, "a worker to connect", 6000);
  if (child.exitCode !== null) throw new Error(`rl-train worker exited (code ${child.exitCode}): ${err}`);
  return { child, log: () => err, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/** How often `re` matches in `text`. */
export const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, "g")) ?? []).length;
