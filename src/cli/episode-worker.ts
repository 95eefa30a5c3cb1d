// Worker thread body: play one frozen-policy episode, posting each step as played and the whole episode at the end (see parallel.ts).
import { parentPort, workerData } from "node:worker_threads";
import { playFrozenEpisode, type EpisodeWorkerMessage, type FrozenEpisodeJob } from "./parallel.ts";

const post = (m: EpisodeWorkerMessage) => parentPort!.postMessage(m);
try {
  const episode = await playFrozenEpisode((workerData as { job: FrozenEpisodeJob }).job, (index, step) => post({ type: "step", index, step }));
  post({ type: "done", episode });
} catch (err) {
  post({ type: "error", error: (err as Error).stack ?? String(err) });
}
