/**
 * Body of a queue worker's job thread (see worker.ts): a long-lived thread that plays the jobs
 * it is sent, one at a time, with the functions local runs use (`playFrozenEpisode` for an
 * episode, `runCell` for a benchmark cell). It keeps its wasm backend, loaded modules and
 * helper threads between jobs: starting a thread costs seconds, as much as a short episode.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createEvalPool, type EvalThreads } from "../../models/eval-pool.ts";
import { createTrainPool, type TrainThreads } from "../../models/train-pool.ts";
import { runCell, type CellSpec } from "../cell.ts";
import { playFrozenEpisode, type FrozenEpisodeJob } from "../parallel.ts";

/** A job for the thread. */
export type ThreadTask = { kind: "episode"; job: FrozenEpisodeJob } | { kind: "cell"; cell: CellSpec };

/** Messages from the thread: steps of an episode as played, then the result or the job's error. */
export type ThreadMessage =
  | { type: "step"; index: number; step: unknown }
  | { type: "done"; value: unknown }
  | { type: "error"; error: string; stack?: string };

const { threads } = workerData as { threads: number };
const post = (m: ThreadMessage) => parentPort!.postMessage(m);
/** This thread's helper pools, started for the first episode job and kept for the next ones. */
let pools: { backend: string; evalRunner: EvalThreads; shardRunner: TrainThreads; close(): Promise<void> } | undefined;

parentPort!.on("message", (task: ThreadTask) => {
  void (async () => {
    try {
      if (task.kind === "episode") {
        // Helper threads for evaluation and gradient shards (kept between jobs; speed only, results never depend on them).
        if (pools?.backend !== task.job.backend) {
          await pools?.close();
          const evalRunner = createEvalPool(threads, task.job.backend);
          const shardRunner = createTrainPool(threads, task.job.backend);
          pools = { backend: task.job.backend, evalRunner, shardRunner, close: async () => void (await Promise.all([evalRunner.close(), shardRunner.close()])) };
        }
        post({ type: "done", value: await playFrozenEpisode(task.job, (index, step) => post({ type: "step", index, step }), pools) });
      } else {
        post({ type: "done", value: await runCell({ ...task.cell, evalThreads: threads, trainThreads: threads }, null) });
      }
    } catch (err) {
      // The message goes to the coordinator as the job's failure; the stack only to the worker's log.
      post({ type: "error", error: (err as Error).message ?? String(err), ...((err as Error).stack ? { stack: (err as Error).stack } : {}) });
    }
  })();
});
