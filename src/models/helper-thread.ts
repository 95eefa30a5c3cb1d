/**
 * A worker thread with its own tf backend that the calling thread drives synchronously: the
 * caller posts a job and blocks in `Atomics.wait` on a shared control word until the helper
 * reports Idle (done) or Failed (with its error text in a shared buffer, since a blocked caller
 * cannot receive messages). Used by the evaluation and training pools.
 */
import * as os from "node:os";
import { parentPort, Worker, workerData } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";
import { SASRec, type SASRecConfig } from "./sasrec.ts";

/** Control word states shared with each helper. */
export const HelperState = { Starting: 0, Idle: 1, Busy: 2, Failed: 3 } as const;
export type HelperState = (typeof HelperState)[keyof typeof HelperState];

export class HelperThread {
  readonly worker: Worker;
  /** [state, a job-specific count]; see HelperState. */
  readonly ctrl = new Int32Array(new SharedArrayBuffer(8));
  private readonly error = new Uint8Array(new SharedArrayBuffer(4096));

  /** Start `module` (a .ts file URL) on a worker thread that initialises `backend`. Does not wait. */
  constructor(module: URL, backend: BackendName, private readonly label: string, private readonly timeoutMs: number) {
    this.worker = new Worker(new URL("../core/worker-bootstrap.mjs", import.meta.url), {
      workerData: { module: module.href, backend, ctrl: this.ctrl, error: this.error },
    });
    this.worker.unref(); // an idle pool must not keep the process alive
  }

  /** Mark busy and post `message`; the helper signals Idle when the job is done. */
  post(message: unknown): void {
    Atomics.store(this.ctrl, 0, HelperState.Busy);
    this.worker.postMessage(message);
  }

  /** Block while the helper is in `state`; throw if it failed or timed out. */
  waitWhile(state: HelperState, what: string): void {
    const deadline = performance.now() + this.timeoutMs;
    while (Atomics.load(this.ctrl, 0) === state) {
      if (performance.now() > deadline) throw new Error(`${this.label} thread did not ${what} within ${this.timeoutMs / 1000} s`);
      Atomics.wait(this.ctrl, 0, state, 1000);
    }
    if (Atomics.load(this.ctrl, 0) === HelperState.Failed) {
      const n = this.error.indexOf(0);
      const text = new TextDecoder().decode(this.error.slice(0, n < 0 ? this.error.length : n));
      throw new Error(`${this.label} thread failed to ${what}: ${text}`);
    }
  }

  /**
   * Block while `word[0] === value` (a job-specific shared word the helper advances); throw if
   * the helper failed meanwhile or the wait timed out.
   */
  waitOn(word: Int32Array, value: number, what: string): void {
    const deadline = performance.now() + this.timeoutMs;
    while (Atomics.load(word, 0) === value) {
      if (Atomics.load(this.ctrl, 0) === HelperState.Failed) this.waitWhile(HelperState.Busy, what); // throws with the helper's error
      if (performance.now() > deadline) throw new Error(`${this.label} thread did not ${what} within ${this.timeoutMs / 1000} s`);
      Atomics.wait(word, 0, value, 100);
    }
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * The worker side: initialise the backend, then run `handle` on every message and report Idle
 * (or Failed with the error text) through the shared buffers. `handle` returns false for a
 * message that is not a job (nothing to report). Returns the control word (ctrl[1] is free for
 * a job-specific count).
 */
export function serveHelper<M>(handle: (m: M) => boolean | void): Int32Array {
  const { backend, ctrl, error } = workerData as { backend: BackendName; ctrl: Int32Array; error: Uint8Array };
  const signal = (state: HelperState): void => {
    Atomics.store(ctrl, 0, state);
    Atomics.notify(ctrl, 0);
  };
  const fail = (e: unknown): void => {
    const text = new TextEncoder().encode(e instanceof Error ? (e.stack ?? e.message) : String(e));
    error.set(text.subarray(0, error.length - 1));
    signal(HelperState.Failed);
  };
  selectBackend(backend, null).then(() => {
    parentPort!.on("message", (m: M) => {
      try {
        if (handle(m) !== false) signal(HelperState.Idle);
      } catch (e) {
        fail(e);
      }
    });
    signal(HelperState.Idle);
  }, fail);
  return ctrl;
}

let replica: { key: string; model: SASRec } | undefined;

/** The worker's SASRec replica for this config (rebuilt when the config changes); callers set its weights. */
export function replicaModel(config: SASRecConfig, numItems: number): SASRec {
  const key = JSON.stringify([config, numItems]);
  if (replica?.key !== key) {
    replica?.model.dispose();
    // Initial weights are overwritten at once; the stream only has to exist.
    replica = { key, model: new SASRec(config, numItems, new Rng(0, "replica")) };
  }
  return replica.model;
}

/**
 * Threads a pool should use for a `--eval-threads` / `--train-threads` value: `"auto"` = the
 * machine's cores (at most 4). Only wasm and cpu get helpers: they run one thread per process,
 * while tfjs-node already uses every core.
 */
export function poolThreads(threads: number | "auto", backend: BackendName): number {
  const n = threads === "auto" ? Math.min(4, os.availableParallelism()) : Math.max(1, Math.floor(threads));
  return backend === "wasm" || backend === "cpu" ? n : 1;
}

/** Threads that compute a step's gradient shards: 1 without shards, else at most one per shard. */
export function shardThreads(gradientShards: number, threads: number): number {
  return gradientShards > 1 ? Math.min(gradientShards, threads) : 1;
}

/**
 * A helper pool that starts on first use, so that runs which never need it never pay the
 * start-up, and logs how long the start took.
 */
export class LazyPool<P extends { close(): Promise<unknown> }> {
  private pool: P | undefined;
  constructor(readonly threads: number, private readonly start: () => P, private readonly started?: (seconds: number) => void) {}

  get(): P {
    if (!this.pool) {
      const t0 = performance.now();
      this.pool = this.start();
      this.started?.((performance.now() - t0) / 1000);
    }
    return this.pool;
  }

  /** Stop the helpers if they ever started. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}
