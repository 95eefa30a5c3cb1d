/**
 * `rl-train worker --queue redis://HOST:PORT`: a long-lived process that takes augrl jobs from
 * the BullMQ queue and runs them with the code local runs use.
 *
 * - An episode job is played by `playFrozenEpisode` on a worker thread (`playEpisodeInThread`,
 *   as local parallel rounds do); each step is reported as job progress, the played episode is
 *   the job's result. A cell job is `runCell` on a worker thread, its run folder's files (not
 *   the checkpoints) returned in the result.
 * - Jobs run on threads, never on the main thread: training blocks a thread for seconds, and
 *   the main thread must keep renewing the jobs' locks in Redis, or BullMQ would take a running
 *   job for a lost one and hand it to another worker.
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
import { EpisodeFailed, playEpisodeInThread, type EpisodeThreads, type FrozenEpisodeJob, type PlayedStep } from "../parallel.ts";
import { readRunFiles, type CellOutcome, type CellSpec } from "../cell.ts";
import { checkRedis, type JobBody, type StepProgress } from "./client.ts";
import { localizeSpec, MissingData } from "./paths.ts";
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

export function workerThreads(threads: number | "auto" | undefined, concurrency: number): EpisodeThreads {
  const n = threads === undefined || threads === "auto" ? Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / concurrency))) : threads;
  return { eval: n, train: n };
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

  const processor = async (job: Job): Promise<string> => {
    const why = refusal(job.data, { protocol: PROTOCOL_VERSION, code });
    if (why) {
      log?.(`[worker] refused job ${job.id}: ${why}`);
      throw new UnrecoverableError(`refused by worker ${name}: ${why}`);
    }
    const e = job.data as Envelope;
    const t0 = performance.now();
    log?.(`[worker] ${e.label}: started (job ${job.id}${job.attemptsStarted > 1 ? `, attempt ${job.attemptsStarted}` : ""})`);
    try {
      const body = decode<JobBody<unknown>>(e.body);
      const input = localizeSpec(body.input, body.files);
      const result = e.kind === "episode" ? await runEpisode(job, input as FrozenEpisodeJob, threads) : encode(await runCellJob(input as CellSpec, threads));
      log?.(`[worker] ${e.label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return result;
    } catch (err) {
      const m = (err as Error).message;
      log?.(`[worker] ${e.label}: failed: ${m}`);
      if (err instanceof MissingData || err instanceof EpisodeFailed || err instanceof CellFailed) throw new UnrecoverableError(`on worker ${name}: ${m}`);
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
  log?.(`[worker] ${name} takes jobs from ${c.display} (queue ${QUEUE_NAME}, ${concurrency} at a time, ${threads.eval} thread(s) each, code ${code}, protocol ${PROTOCOL_VERSION})`);
  return {
    name, finished,
    close: (force = false) => worker.close(force),
  };
}

/** Play an episode job on a thread, reporting each step as job progress (in order). */
async function runEpisode(job: Job, input: FrozenEpisodeJob, threads: EpisodeThreads): Promise<string> {
  let reported = Promise.resolve();
  const played = await playEpisodeInThread(input, (index: number, step: PlayedStep) => {
    const p: StepProgress = { index, step: encode(step) };
    // Progress is for the live monitor only: a lost update changes no result.
    reported = reported.then(() => job.updateProgress(p)).catch(() => {});
  }, threads);
  await reported;
  return encode(played);
}

/** The cell's own code failed (bad spec, a bug): running it again would fail the same way. */
class CellFailed extends Error {}

/** Run a cell job on a thread into a temporary folder and return its outcome and files. */
async function runCellJob(input: CellSpec, threads: EpisodeThreads): Promise<CellJobResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-cell-"));
  const t0 = performance.now();
  try {
    const cell: CellSpec = { ...input, out: dir, evalThreads: threads.eval, trainThreads: threads.train };
    const outcome = await new Promise<CellOutcome>((resolve, reject) => {
      const w = new ThreadWorker(new URL("../../core/worker-bootstrap.mjs", import.meta.url), {
        workerData: { module: new URL("./cell-worker.ts", import.meta.url).href, cell },
      });
      let settled = false;
      w.on("message", (m: { type: "done"; outcome: CellOutcome } | { type: "error"; error: string }) => {
        settled = true;
        void w.terminate();
        if (m.type === "error") reject(new CellFailed(`cell ${input.key} failed: ${m.error}`));
        else resolve(m.outcome);
      });
      w.once("error", (err) => {
        settled = true;
        reject(err);
      });
      w.once("exit", (code) => {
        if (!settled) reject(new Error(`the thread of cell ${input.key} exited (code ${code}) before reporting a result`));
      });
    });
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
