/**
 * Data-parallel training steps on several threads.
 *
 * A model with `gradientShards: n` cuts every training batch into n row shards and sums their
 * gradients (see SASRec.trainStep). The shards are independent, so with this pool as its runner the
 * calling thread computes shard 0 while helper threads (each with its own wasm backend and a
 * gradient replica of the model) compute the others; the caller then sums the gradients in shard
 * order and takes the Adam step. A helper gets the caller's current weights before every step, so
 * it holds no optimizer state and can never drift. The shard arithmetic is the same on every
 * thread and the summation order is fixed, so the weights are bit-identical to computing every
 * shard on the calling thread (tested): the thread count is a speed setting, not a result setting.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../tf/backend.ts";
import { HelperState, HelperThread, LazyPool, poolThreads } from "./helper-thread.ts";
import { inThreadShards, type SASRec, type ShardJob, type ShardRunner } from "./sasrec.ts";

export interface TrainPoolOptions {
  /** Threads in total, the calling thread included. */
  threads: number;
  /** Backend the helpers initialise; must be the caller's, or the gradients could differ. */
  backend: BackendName;
  /** How long to wait for a helper to start or finish a step before giving up (default 300 s). */
  timeoutMs?: number;
}

interface Helper {
  thread: HelperThread;
  /** Gradients of the helper's shards, flat, one parameter-count block per shard. */
  grads?: Float32Array;
  losses?: Float64Array;
}

export class TrainPool implements ShardRunner {
  readonly threads: number;
  private readonly helpers: Helper[] = [];
  /** Shards the helpers have computed so far. */
  helperShards = 0;
  /** The caller's weights for the current step, read by every helper. */
  private weights?: Float32Array;

  /** Start the helper threads and wait (blocking) until each has its backend ready. */
  constructor(opts: TrainPoolOptions) {
    this.threads = Math.max(1, Math.floor(opts.threads));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    for (let i = 1; i < this.threads; i++) {
      this.helpers.push({ thread: new HelperThread(new URL("./train-worker.ts", import.meta.url), opts.backend, "training", timeoutMs) });
    }
    for (const h of this.helpers) h.thread.waitWhile(HelperState.Starting, "start");
  }

  run(model: SASRec, jobs: ShardJob[]): { loss: number; grads: tf.Tensor[] }[] {
    if (this.helpers.length === 0 || jobs.length < 2) return jobs.map((job) => model.shardGradients(job));
    const shapes = model.variableShapes();
    const size = shapes.reduce((n, s) => n + s.size, 0);
    if (this.weights?.length !== size) this.weights = new Float32Array(new SharedArrayBuffer(4 * size));
    model.writeWeightsFlat(this.weights);
    // Shard i goes to thread i mod threads (thread 0 = this one): equal shards, equal shares.
    const threads = Math.min(this.threads, jobs.length);
    const assigned = Array.from({ length: threads }, (_, t) => jobs.map((_, i) => i).filter((i) => i % threads === t));
    const busy = this.helpers.slice(0, threads - 1);
    busy.forEach((h, k) => {
      const mine = assigned[k + 1]!;
      if ((h.grads?.length ?? 0) < mine.length * size) h.grads = new Float32Array(new SharedArrayBuffer(4 * mine.length * size));
      if ((h.losses?.length ?? 0) < mine.length) h.losses = new Float64Array(new SharedArrayBuffer(8 * mine.length));
      h.thread.post({ config: model.config, numItems: model.numItems, weights: this.weights, jobs: mine.map((i) => jobs[i]), grads: h.grads, losses: h.losses });
    });
    const results: { loss: number; grads: tf.Tensor[] }[] = new Array(jobs.length);
    for (const i of assigned[0]!) results[i] = model.shardGradients(jobs[i]!);
    busy.forEach((h, k) => {
      h.thread.waitWhile(HelperState.Busy, "finish a training step");
      assigned[k + 1]!.forEach((i, j) => {
        let offset = j * size;
        const grads = shapes.map((s) => {
          const g = tf.tensor(h.grads!.subarray(offset, offset + s.size), s.shape);
          offset += s.size;
          return g;
        });
        results[i] = { loss: h.losses![j]!, grads };
        this.helperShards++;
      });
    });
    return results;
  }

  close(): Promise<number[]> {
    return Promise.all(this.helpers.splice(0).map((h) => h.thread.terminate()));
  }
}

/** A shard runner on a fixed number of threads that the caller closes when done. */
export interface TrainThreads extends ShardRunner {
  /** Threads in use, the caller's included (1: every shard on the calling thread). */
  readonly threads: number;
  close(): Promise<void>;
}

/**
 * The shard runner for `--train-threads`: sharded training steps (`gradientShards` > 1) spread
 * their shards over `threads` threads (the caller's included), or compute them one after the
 * other with `threads <= 1`. `"auto"` = the machine's cores (at most 4). Only the wasm and cpu
 * backends get helpers (they run one thread per process; tfjs-node already uses every core).
 * The helpers start on the first step that needs them. The weights never depend on this setting.
 * Give the result to `new SASRec(..., { shardRunner })` and `close()` it when training is over.
 */
export function createTrainPool(threads: number | "auto", backend: BackendName, log?: (line: string) => void): TrainThreads {
  const wanted = poolThreads(threads, backend);
  if (wanted <= 1) return { threads: 1, run: (model, jobs) => inThreadShards.run(model, jobs), close: async () => {} };
  const lazy = new LazyPool(wanted, () => new TrainPool({ threads: wanted, backend }), (s) => log?.(`[augrl] training steps on ${wanted} threads (${s.toFixed(1)} s to start)`));
  return { threads: wanted, run: (model, jobs) => lazy.get().run(model, jobs), close: () => lazy.close() };
}
