// Worker thread body: play one frozen-policy episode, posting each step as played and the whole episode at the end (see parallel.ts).
import { parentPort, workerData } from "node:worker_threads";
import { useEvalThreads } from "../models/eval-pool.ts";
import { useTrainThreads } from "../models/train-pool.ts";
import { playFrozenEpisode, type EpisodeThreads, type EpisodeWorkerMessage, type FrozenEpisodeJob } from "./parallel.ts";

const post = (m: EpisodeWorkerMessage) => parentPort!.postMessage(m);
const { job, threads } = workerData as { job: FrozenEpisodeJob; threads?: EpisodeThreads };
try {
  // Helper threads only when the host gives this episode more than one core (a queue worker
  // running fewer jobs than it has cores); local rounds already use one thread per episode.
  if (threads) {
    useEvalThreads(threads.eval, job.backend);
    useTrainThreads(threads.train, job.backend);
  }
  const episode = await playFrozenEpisode(job, (index, step) => post({ type: "step", index, step }));
  post({ type: "done", episode });
} catch (err) {
  post({ type: "error", error: (err as Error).stack ?? String(err) });
} finally {
  if (threads) {
    // Stop the helper threads, so that this thread can exit.
    useEvalThreads(1, job.backend);
    useTrainThreads(1, job.backend);
  }
}
