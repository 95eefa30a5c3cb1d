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
 * Contrastive steps take two round trips (representations, then gradients; see contrastive.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../tf/backend.ts";
import { HelperState, HelperThread, LazyPool, poolThreads } from "./helper-thread.ts";
import { inThreadShards, type ContrastiveJob, type SASRec, type ShardJob, type ShardResult, type ShardRunner } from "./sasrec.ts";

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

  run(model: SASRec, jobs: ShardJob[]): ShardResult[] {
    if (this.helpers.length === 0 || jobs.length < 2) return inThreadShards.run(model, jobs);
    const { size, assigned, busy } = this.prepare(model, jobs.length);
    busy.forEach((h, k) => {
      const mine = assigned[k + 1]!;
      this.outputs(h, mine.length, size);
      h.thread.post({ kind: "grads", config: model.config, numItems: model.numItems, weights: this.weights, jobs: mine.map((i) => jobs[i]), grads: h.grads, losses: h.losses });
    });
    const results: ShardResult[] = new Array(jobs.length);
    for (const i of assigned[0]!) results[i] = model.shardGradients(jobs[i]!);
    this.collect(model, busy, assigned, results);
    return results;
  }

  /**
   * Gradient caching over threads: every thread computes its shards' representations (pass 1),
   * the caller turns all of them into G with `grad`, and every thread computes its shards'
   * gradients from its slice of G (pass 2). Helpers keep their jobs and weights between passes.
   */
  runContrastive(model: SASRec, jobs: ContrastiveJob[], grad: (reps: Float32Array[]) => Float32Array[]): ShardResult[] {
    if (this.helpers.length === 0 || jobs.length < 2) return inThreadShards.runContrastive(model, jobs, grad);
    if (jobs.length <= this.threads) return this.runContrastiveFused(model, jobs, grad);
    const { size, assigned, busy } = this.prepare(model, jobs.length);
    const d = model.config.hiddenSize;
    const repBuffers = busy.map((h, k) => {
      const mine = assigned[k + 1]!;
      const reps = mine.map((i) => new Float32Array(new SharedArrayBuffer(4 * 2 * jobs[i]!.B * d)));
      h.thread.post({ kind: "reps", config: model.config, numItems: model.numItems, weights: this.weights, jobs: mine.map((i) => jobs[i]), reps });
      return reps;
    });
    const reps: Float32Array[] = new Array(jobs.length);
    for (const i of assigned[0]!) reps[i] = model.contrastiveReps(jobs[i]!);
    busy.forEach((h, k) => {
      h.thread.waitWhile(HelperState.Busy, "finish the representations of a contrastive step");
      assigned[k + 1]!.forEach((i, j) => (reps[i] = repBuffers[k]![j]!));
    });
    const g = grad(reps);
    busy.forEach((h, k) => {
      const mine = assigned[k + 1]!;
      this.outputs(h, mine.length, size);
      h.thread.post({ kind: "contrastive-grads", g: mine.map((i) => g[i]!), grads: h.grads, losses: h.losses });
    });
    const results: ShardResult[] = new Array(jobs.length);
    for (const i of assigned[0]!) results[i] = model.contrastiveShardGradients(jobs[i]!, g[i]!);
    this.collect(model, busy, assigned, results);
    return results;
  }

  /**
   * One shard per thread: every thread runs its shard's forward pass once and keeps the graph;
   * the representations meet on the caller, which computes G and hands each helper its slice
   * through shared memory while the helpers wait inside their passes (`phase`: 0 computing,
   * 1 representations written, 2 slice of G written, 3 abandoned). Bit-identical to the two-pass
   * protocol (tested), one forward pass fewer.
   */
  private runContrastiveFused(model: SASRec, jobs: ContrastiveJob[], grad: (reps: Float32Array[]) => Float32Array[]): ShardResult[] {
    const { size, busy } = this.prepare(model, jobs.length);
    const d = model.config.hiddenSize;
    const shared = busy.map((h, k) => {
      const job = jobs[k + 1]!;
      const n = 2 * job.B * d;
      const io = { reps: new Float32Array(new SharedArrayBuffer(4 * n)), g: new Float32Array(new SharedArrayBuffer(4 * n)), phase: new Int32Array(new SharedArrayBuffer(4)) };
      this.outputs(h, 1, size);
      h.thread.post({ kind: "contrastive-fused", config: model.config, numItems: model.numItems, weights: this.weights, job, ...io, grads: h.grads, losses: h.losses });
      return io;
    });
    const results: ShardResult[] = new Array(jobs.length);
    let exchanged = false;
    try {
      results[0] = model.contrastiveShardGradientsFused(jobs[0]!, (reps0) => {
        busy.forEach((h, k) => h.thread.waitOn(shared[k]!.phase, 0, "finish the representations of a contrastive step"));
        const g = grad([reps0, ...shared.map((io) => io.reps)]);
        shared.forEach((io, k) => {
          io.g.set(g[k + 1]!);
          Atomics.store(io.phase, 0, 2);
          Atomics.notify(io.phase, 0);
        });
        exchanged = true;
        return g[0]!;
      });
    } finally {
      if (!exchanged) {
        for (const io of shared) {
          Atomics.store(io.phase, 0, 3);
          Atomics.notify(io.phase, 0);
        }
      }
    }
    this.collect(model, busy, jobs.map((_, i) => [i]), results);
    return results;
  }

  /** Share the caller's weights and assign shard i to thread i mod threads (thread 0 = this one). */
  private prepare(model: SASRec, jobCount: number): { size: number; assigned: number[][]; busy: Helper[] } {
    const size = model.variableShapes().reduce((n, s) => n + s.size, 0);
    if (this.weights?.length !== size) this.weights = new Float32Array(new SharedArrayBuffer(4 * size));
    model.writeWeightsFlat(this.weights);
    const threads = Math.min(this.threads, jobCount);
    const assigned = Array.from({ length: threads }, (_, t) => Array.from({ length: jobCount }, (_, i) => i).filter((i) => i % threads === t));
    return { size, assigned, busy: this.helpers.slice(0, threads - 1) };
  }

  private outputs(h: Helper, shards: number, size: number): void {
    if ((h.grads?.length ?? 0) < shards * size) h.grads = new Float32Array(new SharedArrayBuffer(4 * shards * size));
    if ((h.losses?.length ?? 0) < shards) h.losses = new Float64Array(new SharedArrayBuffer(8 * shards));
  }

  /** Wait for each busy helper and turn its flat gradients into tensors of this thread (`assigned[k + 1]`: helper k's jobs). */
  private collect(model: SASRec, busy: Helper[], assigned: number[][], results: ShardResult[]): void {
    const shapes = model.variableShapes();
    const size = shapes.reduce((n, s) => n + s.size, 0);
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
  if (wanted <= 1) return { ...inThreadShards, threads: 1, close: async () => {} };
  const lazy = new LazyPool(wanted, () => new TrainPool({ threads: wanted, backend }), (s) => log?.(`[augrl] training steps on ${wanted} threads (${s.toFixed(1)} s to start)`));
  return {
    threads: wanted,
    run: (model, jobs) => lazy.get().run(model, jobs),
    runContrastive: (model, jobs, grad) => lazy.get().runContrastive(model, jobs, grad),
    close: () => lazy.close(),
  };
}
