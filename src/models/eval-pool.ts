/**
 * Full-ranking evaluation on several threads.
 *
 * The wasm backend runs one thread per process in Node, and a full Beauty evaluation is ~50
 * GFLOP of matmuls (every user × every item), so a second core halves it. Each helper thread
 * holds its own wasm backend and a scoring replica of the model; before every evaluation it
 * receives the current weights. The calling thread and the helpers take chunks from one shared
 * atomic counter, so a slow or late helper never delays the others.
 *
 * `rankChunks` is synchronous (the caller blocks in `Atomics.wait` while helpers finish), so
 * `evaluate` stays a plain function for the trainer and the env. Every chunk is computed by
 * `rankChunk` on the same backend build whichever thread takes it, so the ranks are identical
 * to a single-threaded evaluation (tested).
 */
import * as os from "node:os";
import type { BackendName } from "../tf/backend.ts";
import { HelperState, HelperThread, LazyPool, poolThreads } from "./helper-thread.ts";
import { rankChunk, type ChunkRunner, type NextItemScorer } from "./evaluate.ts";
import type { LeaveOneOutSplit } from "../data/types.ts";
import type { SASRecConfig, SASRecState } from "./sasrec.ts";

/** A model the pool can copy into its helpers. */
interface Replicable extends NextItemScorer {
  readonly config: SASRecConfig;
  readonly numItems: number;
  getWeights(): SASRecState["weights"];
}

function isReplicable(m: NextItemScorer): m is Replicable {
  const r = m as Partial<Replicable>;
  return typeof r.getWeights === "function" && typeof r.config === "object" && typeof r.numItems === "number";
}

interface Helper {
  thread: HelperThread;
  splits: WeakSet<LeaveOneOutSplit>;
}

export interface EvalPoolOptions {
  /** Threads in total, the calling thread included (default: the machine's cores, at most 4). */
  threads?: number;
  /** Backend the helpers initialise; must be the caller's, or the ranks could differ. */
  backend: BackendName;
  /** How long to wait for a helper to start or finish before giving up (default 300 s). */
  timeoutMs?: number;
  /** Whether the calling thread scores chunks too (default true; false leaves all to helpers, for tests). */
  callerScores?: boolean;
}

export class EvalPool implements ChunkRunner {
  readonly threads: number;
  private readonly helpers: Helper[] = [];
  private readonly callerScores: boolean;
  /** Chunks each thread scored in the last `rankChunks` (caller first). */
  lastShare: number[] = [];
  private splitIds = new WeakMap<LeaveOneOutSplit, number>();
  private nextSplitId = 0;

  /** Start the helper threads and wait (blocking) until each has its backend ready. */
  constructor(opts: EvalPoolOptions) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? Math.min(4, os.availableParallelism())));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    this.callerScores = opts.callerScores ?? true;
    for (let i = 1; i < this.threads; i++) {
      // ctrl[1]: chunks the helper scored in the last job.
      this.helpers.push({ thread: new HelperThread(new URL("./eval-worker.ts", import.meta.url), opts.backend, "evaluation", timeoutMs), splits: new WeakSet() });
    }
    for (const h of this.helpers) h.thread.waitWhile(HelperState.Starting, "start");
  }

  rankChunks(model: NextItemScorer, split: LeaveOneOutSplit, which: "valid" | "test", chunks: Int32Array[]): Int32Array[] {
    if (this.helpers.length === 0 || !isReplicable(model)) return chunks.map((ids) => rankChunk(model, split, which, ids));
    const offsets = new Int32Array(chunks.length + 1);
    chunks.forEach((c, i) => (offsets[i + 1] = offsets[i]! + c.length));
    const ranks = new Int32Array(new SharedArrayBuffer(4 * offsets[chunks.length]!));
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const splitId = this.splitId(split);
    const weights = model.getWeights();
    for (const h of this.helpers) {
      if (!h.splits.has(split)) {
        // Only what ranking reads; sent once per split and helper.
        h.thread.worker.postMessage({ type: "split", splitId, train: split.train, validTarget: split.validTarget, testTarget: split.testTarget, numItems: split.dataset.numItems });
        h.splits.add(split);
      }
      h.thread.post({ type: "rank", splitId, which, config: model.config, numItems: model.numItems, weights, chunks, offsets, ranks, counter });
    }
    let mine = 0;
    if (this.callerScores) {
      for (let k = Atomics.add(counter, 0, 1); k < chunks.length; k = Atomics.add(counter, 0, 1), mine++) {
        const i = chunks.length - 1 - k; // longest histories first (see eval-worker.ts)
        ranks.set(rankChunk(model, split, which, chunks[i]!), offsets[i]!);
      }
    }
    for (const h of this.helpers) h.thread.waitWhile(HelperState.Busy, "finish an evaluation");
    this.lastShare = [mine, ...this.helpers.map((h) => Atomics.load(h.thread.ctrl, 1))];
    return chunks.map((_, i) => ranks.slice(offsets[i]!, offsets[i + 1]!));
  }

  close(): Promise<number[]> {
    return Promise.all(this.helpers.splice(0).map((h) => h.thread.terminate()));
  }

  private splitId(split: LeaveOneOutSplit): number {
    let id = this.splitIds.get(split);
    if (id === undefined) this.splitIds.set(split, (id = this.nextSplitId++));
    return id;
  }
}

/** A chunk runner on a fixed number of threads that the caller closes when done. */
export interface EvalThreads extends ChunkRunner {
  /** Threads in use, the caller's included (1: every chunk on the calling thread). */
  readonly threads: number;
  close(): Promise<void>;
}

/**
 * The chunk runner for `--eval-threads`: `evaluate(..., { runner })` shares its chunks among
 * `threads` threads (the caller's included), or ranks on the caller's thread alone with
 * `threads <= 1`. `"auto"` = the machine's cores (at most 4). Only the wasm and cpu backends get
 * helpers: they run one thread per process, while tfjs-node already uses every core. The helpers
 * start on the first evaluation with more than one chunk; `close()` stops them.
 */
export function createEvalPool(threads: number | "auto", backend: BackendName, log?: (line: string) => void): EvalThreads {
  const wanted = poolThreads(threads, backend);
  if (wanted <= 1) return { threads: 1, rankChunks: (model, split, which, chunks) => chunks.map((ids) => rankChunk(model, split, which, ids)), close: async () => {} };
  const lazy = new LazyPool(wanted, () => new EvalPool({ threads: wanted, backend }), (s) => log?.(`[augrl] evaluation on ${wanted} threads (${s.toFixed(1)} s to start)`));
  return { threads: wanted, rankChunks: (model, split, which, chunks) => lazy.get().rankChunks(model, split, which, chunks), close: () => lazy.close() };
}
