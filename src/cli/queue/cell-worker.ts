// Worker thread body: run one benchmark cell (an `rl-train run` episode) for a queue worker, off its main thread (see worker.ts).
import { parentPort, workerData } from "node:worker_threads";
import { runCell, type CellSpec } from "../cell.ts";

try {
  const outcome = await runCell((workerData as { cell: CellSpec }).cell, null);
  parentPort!.postMessage({ type: "done", outcome });
} catch (err) {
  parentPort!.postMessage({ type: "error", error: (err as Error).stack ?? String(err) });
}
