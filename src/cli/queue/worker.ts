/**
 * `rl-train worker --queue redis://HOST:PORT`: a long-lived process that takes augrl jobs from
 * the BullMQ queue and runs them with the code local runs use.
 *
 * - An episode job is played by `playFrozenEpisode`, as in local parallel rounds; each step is
 *   reported as job progress, the played episode is the job's result. A cell job is `runCell`,
 *   its run folder's files (not the checkpoints) returned in the result.
 * - Jobs run on job threads (job-thread.ts; one per `--concurrency` slot, kept between jobs),
 *   never on the main thread: training blocks a thread for seconds, and the main thread must
 *   keep renewing the jobs' locks in Redis, or BullMQ would take a running job for a lost one
 *   and hand it to another worker.
 * - Refusals and deterministic failures (another protocol or code version, missing or
 *   different data, an error thrown by the job's own code) throw BullMQ's UnrecoverableError:
 *   the job fails at once, without retries, and the coordinator reports the reason. A thread
 *   that dies (out of memory) is an ordinary failure, retried up to the job's attempts.
 * - A worker killed mid-job stops renewing its lock; after `lockMs` another worker's stalled
 *   check puts the job back (up to MAX_STALLED times) and it runs again from the start.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker as ThreadWorker } from "node:worker_threads";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { FrozenEpisodeJob, PlayedEpisode } from "../parallel.ts";
import { readRunFiles, type CellOutcome, type CellSpec } from "../cell.ts";
import type { ThreadMessage, ThreadTask } from "./job-thread.ts";
import { checkRedis, type JobBody, type StepProgress } from "./client.ts";
import { localizeSpec } from "./paths.ts";
import { codeVersion, decode, encode, PROTOCOL_VERSION, QUEUE_NAME, refusal, type Envelope } from "./protocol.ts";
import { bullConnection, parseQueueUrl } from "./url.ts";

/** How often a job may lose its worker before it fails for good ("job stalled more than allowable limit"). */
export const MAX_STALLED = 3;

export interface WorkerOptions {
  /** redis://HOST:PORT[/DB] (rediss:// for TLS). */
  queue: string;
  /** Jobs run at once, each on its own thread. Default 1. */
  concurrency?: number;
  /** Evaluation / gradient-shard threads per job; auto = cores ÷ concurrency (at least 1, at most 4). Results never depend on it. */
  threads?: number | "auto";
  /** Lock time of a job without a heartbeat from its worker, in ms; a killed worker's job is taken over after about this long. Default 30000. */
  lockMs?: number;
  log?: ((line: string) => void) | null;
  /** The code version this worker accepts; default: its own (tests make a mismatched worker with it). */
  code?: string;
}

/** A cell job's result: the outcome and the run folder's files. */
export interface CellJobResult {
  outcome: Omit<CellOutcome, "runDir">;
  /** File name → contents, base64. */
  files: Record<string, string>;
  /** Seconds the cell ran on the worker (its time in the queue not counted). */
  wall_s: number;
}

export interface WorkerHandle {
  /** `host:pid`, as stored on the jobs it runs. */
  readonly name: string;
  /** Jobs finished by this worker (completed or failed), by kind. */
  readonly finished: { episode: number; cell: number; failed: number };
  /** Stop taking jobs; wait for the running ones unless `force`. */
  close(force?: boolean): Promise<void>;
}

/** Helper threads per job: `auto` shares the cores among the jobs that run at once. */
export function workerThreads(threads: number | "auto" | undefined, concurrency: number): number {
  return threads === undefined || threads === "auto" ? Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / concurrency))) : threads;
}

/** The job's own code threw (a bad spec, a bug): running it again would fail the same way. */
class JobFailed extends Error {}

/** A long-lived job thread running one task at a time; replaced when it dies. */
class JobThread {
  private thread: ThreadWorker | undefined;

  constructor(private readonly threads: number) {}

  run<T>(task: ThreadTask, label: string, onStep?: (index: number, step: unknown) => void): Promise<T> {
    const w = (this.thread ??= new ThreadWorker(new URL("../../core/worker-bootstrap.mjs", import.meta.url), {
      workerData: { module: new URL("./job-thread.ts", import.meta.url).href, threads: this.threads },
    }));
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        w.off("message", onMessage);
        w.off("error", onError);
        w.off("exit", onExit);
      };
      const onMessage = (m: ThreadMessage) => {
        if (m.type === "step") return onStep?.(m.index, m.step);
        done();
        if (m.type === "error") reject(Object.assign(new JobFailed(`${label} failed: ${m.error}`), { threadStack: m.stack }));
        else resolve(m.value as T);
      };
      // A dead thread (out of memory, a crash) is not the job's fault: the job may be retried on a new thread.
      const onError = (err: Error) => {
        done();
        this.thread = undefined;
        void w.terminate();
        reject(new Error(`the job thread died during ${label}: ${err.message}`));
      };
      const onExit = (code: number) => {
        done();
        this.thread = undefined;
        reject(new Error(`the job thread exited (code ${code}) during ${label}`));
      };
      w.on("message", onMessage);
      w.once("error", onError);
      w.once("exit", onExit);
      w.postMessage(task);
    });
  }

  async close(): Promise<void> {
    await this.thread?.terminate();
    this.thread = undefined;
  }
}

export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const log = o.log === undefined ? (l: string) => console.error(l) : o.log;
  const c = parseQueueUrl("--queue", o.queue);
  await checkRedis(c);
  const concurrency = o.concurrency ?? 1;
  const threads = workerThreads(o.threads, concurrency);
  const code = o.code ?? codeVersion();
  const name = `${os.hostname()}:${process.pid}`;
  const finished = { episode: 0, cell: 0, failed: 0 };
  const lockMs = o.lockMs ?? 30_000;
  // BullMQ runs at most `concurrency` processors at once: one idle thread is always there for each.
  const idle: JobThread[] = [];
  const all: JobThread[] = [];
  const withThread = async <T>(f: (t: JobThread) => Promise<T>): Promise<T> => {
    let t = idle.pop();
    if (!t) all.push((t = new JobThread(threads)));
    try {
      return await f(t);
    } finally {
      idle.push(t);
    }
  };

  const processor = async (job: Job): Promise<string> => {
    const why = refusal(job.data, { protocol: PROTOCOL_VERSION, code });
    if (why) {
      log?.(`[worker] refused job ${job.id}: ${why}`);
      throw new UnrecoverableError(`refused by worker ${name}: ${why}`);
    }
    const e = job.data as Envelope;
    const t0 = performance.now();
    log?.(`[worker] ${e.label}: started (job ${job.id}${job.attemptsStarted > 1 ? `, attempt ${job.attemptsStarted}` : ""})`);
    let input: unknown;
    try {
      const body = decode<JobBody<unknown>>(e.body);
      input = localizeSpec(body.input, body.files);
    } catch (err) {
      // Unreadable data or files this machine lacks: the same on every attempt.
      log?.(`[worker] ${e.label}: cannot run here: ${(err as Error).message}`);
      throw new UnrecoverableError(`on worker ${name}: ${(err as Error).message}`);
    }
    try {
      const result = await withThread((t) => (e.kind === "episode" ? runEpisode(t, job, e.label, input as FrozenEpisodeJob) : runCellJob(t, e.label, input as CellSpec).then(encode)));
      log?.(`[worker] ${e.label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return result;
    } catch (err) {
      const m = (err as Error).message;
      log?.(`[worker] ${e.label}: failed: ${(err as { threadStack?: string }).threadStack ?? m}`);
      if (err instanceof JobFailed) throw new UnrecoverableError(`on worker ${name}: ${m}`);
      throw err;
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: bullConnection(c), concurrency, name,
    lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: MAX_STALLED,
  });
  worker.on("completed", (job) => void (finished[(job.data as Envelope).kind === "cell" ? "cell" : "episode"]++));
  worker.on("failed", () => void finished.failed++);
  // Connection trouble is retried by ioredis; report it rather than crash.
  worker.on("error", (err) => log?.(`[worker] queue error: ${err.message}`));
  await worker.waitUntilReady();
  log?.(`[worker] ${name} takes jobs from ${c.display} (queue ${QUEUE_NAME}, ${concurrency} at a time, ${threads} thread(s) each, code ${code}, protocol ${PROTOCOL_VERSION})`);
  return {
    name, finished,
    close: async (force = false) => {
      await worker.close(force);
      await Promise.all(all.map((t) => t.close()));
    },
  };
}

/** Play an episode job on a job thread, reporting each step as job progress (in order). */
async function runEpisode(t: JobThread, job: Job, label: string, input: FrozenEpisodeJob): Promise<string> {
  let reported = Promise.resolve();
  const played = await t.run<PlayedEpisode>({ kind: "episode", job: input }, label, (index, step) => {
    const p: StepProgress = { index, step: encode(step) };
    // Progress is for the live monitor only: a lost update changes no result.
    reported = reported.then(() => job.updateProgress(p)).catch(() => {});
  });
  await reported;
  return encode(played);
}

/** Run a cell job on a job thread into a temporary folder and return its outcome and files. */
async function runCellJob(t: JobThread, label: string, input: CellSpec): Promise<CellJobResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-cell-"));
  const t0 = performance.now();
  try {
    const outcome = await t.run<CellOutcome>({ kind: "cell", cell: { ...input, out: dir } }, label);
    const files = Object.fromEntries(Object.entries(readRunFiles(outcome.runDir)).map(([k, v]) => [k, v.toString("base64")]));
    const { runDir: _runDir, ...rest } = outcome;
    return { outcome: rest, files, wall_s: (performance.now() - t0) / 1000 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `rl-train worker`: run until SIGINT/SIGTERM; the first signal lets running jobs finish, a second stops at once. */
export async function runWorkerCommand(o: WorkerOptions): Promise<void> {
  const log = o.log === undefined ? (l: string) => console.error(l) : o.log;
  const handle = await startWorker({ ...o, log });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log?.(`[worker] ${signal} again: stopping now; running jobs go back to the queue once their lock expires`);
        process.exit(130);
      }
      stopping = true;
      log?.(`[worker] ${signal}: finishing running jobs, taking no new ones (${signal} again stops at once)`);
      void handle.close().then(resolve);
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
  log?.(`[worker] stopped after ${handle.finished.episode} episode and ${handle.finished.cell} cell job(s) (${handle.finished.failed} failed)`);
}
