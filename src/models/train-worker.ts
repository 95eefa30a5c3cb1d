// Helper thread of TrainPool (train-pool.ts): its own backend and a gradient replica of the model.
import { parentPort, workerData } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { selectBackend, type BackendName } from "../tf/backend.ts";
import { HelperState, helperSide } from "./helper-thread.ts";
import { SASRec, type SASRecConfig, type ShardJob } from "./sasrec.ts";

const { backend } = workerData as { backend: BackendName };
const { signal, fail } = helperSide(workerData);

interface GradJob {
  config: SASRecConfig;
  numItems: number;
  /** The caller's current weights, flat (see SASRec.writeWeightsFlat). */
  weights: Float32Array;
  jobs: ShardJob[];
  /** Output: job k's gradients, flat, at k × parameter count. */
  grads: Float32Array;
  /** Output: job k's loss. */
  losses: Float64Array;
}

let replica: { key: string; model: SASRec } | undefined;

function run(m: GradJob): void {
  const key = JSON.stringify([m.config, m.numItems]);
  if (replica?.key !== key) {
    replica?.model.dispose();
    // Initial weights are overwritten at once; the stream only has to exist.
    replica = { key, model: new SASRec(m.config, m.numItems, new Rng(0, "train-replica")) };
  }
  const model = replica.model;
  model.setWeightsFlat(m.weights);
  const size = m.weights.length;
  m.jobs.forEach((job, k) => {
    const { loss, grads } = model.shardGradients(job);
    let offset = k * size;
    for (const g of grads) {
      m.grads.set(g.dataSync() as Float32Array, offset);
      offset += g.size;
      g.dispose();
    }
    m.losses[k] = loss;
  });
}

try {
  await selectBackend(backend, null);
  parentPort!.on("message", (m: GradJob) => {
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
