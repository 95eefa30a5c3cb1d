// Helper thread of TrainPool (train-pool.ts): its own backend and a gradient replica of the model.
import { replicaModel, serveHelper } from "./helper-thread.ts";
import type { SASRecConfig, ShardJob } from "./sasrec.ts";

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

serveHelper<GradJob>((m) => {
  const model = replicaModel(m.config, m.numItems);
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
});
