// Helper thread of EvalPool (eval-pool.ts): its own backend and a scoring replica of the model.
import { parentPort, workerData } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";
import { rankChunk, type RankingSplit } from "./evaluate.ts";
import { HelperState, helperSide } from "./helper-thread.ts";
import { SASRec, type SASRecConfig, type SASRecState } from "./sasrec.ts";

const { backend } = workerData as { backend: BackendName };
const { ctrl, signal, fail } = helperSide(workerData);

interface RankJob {
  splitId: number; which: "valid" | "test"; config: SASRecConfig; numItems: number; weights: SASRecState["weights"];
  chunks: Int32Array[]; offsets: Int32Array; ranks: Int32Array; counter: Int32Array;
}

const splits = new Map<number, RankingSplit>();
let replica: { key: string; model: SASRec } | undefined;

function run(job: RankJob): void {
  const split = splits.get(job.splitId);
  if (!split) throw new Error(`no split ${job.splitId} was sent`);
  const key = JSON.stringify([job.config, job.numItems]);
  if (replica?.key !== key) {
    replica?.model.dispose();
    // Initial weights are overwritten at once; the stream only has to exist.
    replica = { key, model: new SASRec(job.config, job.numItems, new Rng(0, "eval-replica")) };
  }
  replica.model.setWeights(job.weights);
  let done = 0;
  // Chunks come sorted by history length, so the last are the most expensive: taking them first
  // (longest-processing-time-first) keeps every thread busy until the end instead of leaving
  // one thread alone with the widest chunk.
  for (let k = Atomics.add(job.counter, 0, 1); k < job.chunks.length; k = Atomics.add(job.counter, 0, 1), done++) {
    const i = job.chunks.length - 1 - k;
    job.ranks.set(rankChunk(replica.model, split, job.which, job.chunks[i]!), job.offsets[i]!);
  }
  Atomics.store(ctrl, 1, done);
}

try {
  await selectBackend(backend, null);
  parentPort!.on("message", (m: { type: "split"; splitId: number; train: Int32Array[]; validTarget: Int32Array; testTarget: Int32Array; numItems: number } | ({ type: "rank" } & RankJob)) => {
    if (m.type === "split") {
      splits.set(m.splitId, { train: m.train, validTarget: m.validTarget, testTarget: m.testTarget, dataset: { numItems: m.numItems } });
      return;
    }
    try {
      run(m);
      signal(HelperState.Idle);
    } catch (e) {
      fail(e);
    }
  });
  signal(HelperState.Idle);
} catch (e) {
  fail(e);
}
