// Worker thread body: play one frozen-policy episode and post it back (see parallel.ts).
import { parentPort, workerData } from "node:worker_threads";
import { playFrozenEpisode, type FrozenEpisodeJob } from "./parallel.ts";

try {
  parentPort!.postMessage(await playFrozenEpisode((workerData as { job: FrozenEpisodeJob }).job));
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).stack ?? String(err) });
}
