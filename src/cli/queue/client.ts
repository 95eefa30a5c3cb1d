/**
 * The coordinator's side of `--queue`: add jobs to the BullMQ queue, follow them through
 * QueueEvents and collect their results in job order.
 *
 * - Re-attaching: job ids are content hashes (protocol.ts), so adding a job that is already
 *   waiting, running or finished adds nothing; the coordinator waits for that job (or reads its
 *   stored result). A coordinator that was killed and started again (`rl-train resume`, a
 *   re-run of `bench:quality`) therefore never re-runs a finished job while its result is kept
 *   (KEEP_COMPLETED).
 * - Failures: a job that failed for good (a refused version, missing data, an error in the
 *   episode's code: the worker marks those unrecoverable, so they are not retried) rejects the
 *   whole call with one error naming the job and the worker's reason. A job found failed from an
 *   earlier attempt is retried once by this call: its inputs are the same, but the worker that
 *   refused it may have been replaced.
 * - Lost workers are BullMQ's business: a job whose worker stops renewing its lock (killed,
 *   machine gone) is put back by another worker's stalled-job check and runs again from the
 *   start; episodes are deterministic, so the result is the same.
 */
import { Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { fileRefs, type FileRef } from "./paths.ts";
import { codeVersion, decode, encode, jobId, PROTOCOL_VERSION, QUEUE_NAME, type Envelope, type JobKind } from "./protocol.ts";
import { bullConnection, parseQueueUrl, type QueueConnection } from "./url.ts";
import type { EpisodeExecutor, FrozenEpisodeJob, PlayedEpisode, PlayedStep } from "../parallel.ts";

/** Finished jobs stay in Redis this long (and at most this many), for coordinators that re-attach. */
export const KEEP_COMPLETED = { age: 3 * 24 * 3600, count: 1000 };
/** Failed jobs are kept a week, for `failedReason` and inspection. */
export const KEEP_FAILED = { age: 7 * 24 * 3600 };
/** Attempts per job: only failures the worker does not mark unrecoverable (a crashed thread) use them. */
export const ATTEMPTS = 3;

/** A job body as the worker receives it: the inputs, and the files they name with their checksums. */
export interface JobBody<T> {
  input: T;
  files: FileRef[];
}

/** Progress a worker reports for a step of an episode job. */
export interface StepProgress {
  index: number;
  /** The PlayedStep, `encode`d. */
  step: string;
}

/** Fail fast with a clear message when Redis is unreachable or refuses the credentials (BullMQ itself would retry forever). */
export async function checkRedis(c: QueueConnection, flag = "--queue"): Promise<void> {
  const { display: _display, ...options } = c;
  const r = new Redis({ ...options, lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's own error (ECONNREFUSED, ENOTFOUND, WRONGPASS …) says more than the rejected connect ("Connection is closed").
  let cause: Error | undefined;
  r.on("error", (err: Error) => (cause ??= err));
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    const m = (cause ?? (err as Error)).message;
    const hint = /NOAUTH|WRONGPASS|invalid username-password/i.test(m)
      ? "pass the password in the URL (redis://:PASSWORD@HOST:PORT, or USER:PASSWORD for an ACL user) or in $AUGRL_REDIS_PASSWORD"
      : "start redis-server there (see README, Scaling out) or fix the URL";
    throw new Error(`\`${flag}\` ${c.display}: cannot use Redis (${m}); ${hint}`);
  } finally {
    r.disconnect();
  }
}

/** One connection to the queue for a coordinator. */
export class QueueClient {
  private constructor(
    readonly connection: QueueConnection,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly log: ((line: string) => void) | null,
  ) {}

  static async connect(url: string, log: ((line: string) => void) | null): Promise<QueueClient> {
    const c = parseQueueUrl("--queue", url);
    await checkRedis(c);
    const connection = bullConnection(c);
    const queue = new Queue(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    // Each job's waiters add two listeners; rounds and benchmarks wait on many jobs at once.
    events.setMaxListeners(0);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueClient(c, queue, events, log);
  }

  /**
   * Run `inputs` as jobs of `kind` and return their results in order. `label(i)` names job i in
   * logs and errors; `onProgress(i, data)` receives the progress a worker reports for job i.
   */
  async run<I, R>(kind: JobKind, inputs: I[], label: (i: number) => string, onProgress?: (i: number, data: unknown) => void): Promise<R[]> {
    const code = codeVersion();
    const envelopes: Envelope[] = inputs.map((input, i) => ({
      protocol: PROTOCOL_VERSION, code, kind, label: label(i),
      body: encode({ input, files: fileRefs(input) } satisfies JobBody<I>),
    }));
    const ids = envelopes.map(jobId);
    const index = new Map(ids.map((id, i) => [id, i]));
    const progress = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
      const i = index.get(id);
      if (i !== undefined) onProgress?.(i, data);
    };
    if (onProgress) this.events.on("progress", progress);
    try {
      const jobs = await Promise.all(envelopes.map((e, i) => this.submit(e, ids[i]!)));
      const workers = await this.queue.getWorkersCount().catch(() => -1);
      if (workers === 0) this.log?.(`[augrl] queue ${this.connection.display}: no worker is connected yet; the ${kind} job(s) wait until one starts (rl-train worker --queue ${this.connection.display})`);
      return await Promise.all(
        jobs.map(async (job, i) => {
          try {
            return decode<R>((await job.waitUntilFinished(this.events)) as string);
          } catch (err) {
            throw new Error(`${envelopes[i]!.label} failed on a queue worker (job ${ids[i]} on ${this.connection.display}): ${(err as Error).message}`);
          }
        }),
      );
    } finally {
      this.events.off("progress", progress);
    }
  }

  /** Add the job, or attach to the one with its id (retrying it when it failed before). */
  private async submit(e: Envelope, id: string): Promise<Job> {
    const existing = await Job.fromId(this.queue, id);
    if (existing) {
      const state = await existing.getState();
      if (state === "completed") this.log?.(`[augrl] ${e.label}: done before on the queue (job ${id}); using its result`);
      else if (state === "failed") {
        this.log?.(`[augrl] ${e.label}: failed before (${existing.failedReason || "no reason kept"}); trying again`);
        await existing.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      } else this.log?.(`[augrl] ${e.label}: already on the queue (job ${id}, ${state}); waiting for it`);
      return existing;
    }
    // An add racing another coordinator's add of the same id returns that job: still one job.
    return this.queue.add(e.kind, e, {
      jobId: id, attempts: ATTEMPTS, backoff: { type: "fixed", delay: 2000 },
      removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.queue.close()]);
  }
}

/** Parallel rounds on queue workers: each episode is one job; steps stream back as job progress. */
export async function queueExecutor(url: string, log: ((line: string) => void) | null): Promise<EpisodeExecutor> {
  const client = await QueueClient.connect(url, log);
  return {
    describe: `queue workers at ${client.connection.display}`,
    play: async (jobs, onStep) => {
      // A step is forwarded once: a job retried after a lost worker reports its steps again.
      const seen = jobs.map(() => new Set<number>());
      return client.run<FrozenEpisodeJob, PlayedEpisode>(
        "episode", jobs, (i) => `episode ${jobs[i]!.episode} (seed ${jobs[i]!.seed})`,
        (i, data) => {
          const p = data as Partial<StepProgress> | null;
          if (!onStep || typeof p?.index !== "number" || typeof p.step !== "string" || seen[i]!.has(p.index)) return;
          seen[i]!.add(p.index);
          onStep(i, p.index, decode<PlayedStep>(p.step));
        },
      );
    },
    close: () => client.close(),
  };
}
