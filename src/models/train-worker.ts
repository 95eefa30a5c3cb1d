// Helper thread of TrainPool (train-pool.ts): its own backend and a gradient replica of the model.
import { replicaModel, serveHelper } from "./helper-thread.ts";
import type { ContrastiveJob, SASRec, SASRecConfig, ShardJob, ShardResult } from "./sasrec.ts";

interface Outputs {
  /** Output: job k's gradients, flat, at k × parameter count. */
  grads: Float32Array;
  /** Output: job k's loss. */
  losses: Float64Array;
}

interface Step {
  config: SASRecConfig;
  numItems: number;
  /** The caller's current weights, flat (see SASRec.writeWeightsFlat). */
  weights: Float32Array;
}

/** Plain shards. */
interface GradJob extends Step, Outputs { kind: "grads"; jobs: ShardJob[] }
/** Contrastive pass 1: job k's representations into `reps[k]`. */
interface RepsJob extends Step { kind: "reps"; jobs: ContrastiveJob[]; reps: Float32Array[] }
/** Contrastive pass 2 for the jobs of the last `reps` message: `g[k]` is job k's slice of G. */
interface ContrastiveGradJob extends Outputs { kind: "contrastive-grads"; g: Float32Array[] }
/** Both contrastive passes in one forward (see TrainPool.runContrastiveFused): reps out, G in, through `phase`. */
interface FusedJob extends Step, Outputs { kind: "contrastive-fused"; job: ContrastiveJob; reps: Float32Array; g: Float32Array; phase: Int32Array }

/** The model and jobs of the last pass 1, kept for pass 2 (same weights, same rows). */
let pending: { model: SASRec; jobs: ContrastiveJob[] } | undefined;

function write(m: Outputs, size: number, results: ShardResult[]): void {
  results.forEach(({ loss, grads }, k) => {
    let offset = k * size;
    for (const g of grads) {
      m.grads.set(g.dataSync() as Float32Array, offset);
      offset += g.size;
      g.dispose();
    }
    m.losses[k] = loss;
  });
}

serveHelper<GradJob | RepsJob | ContrastiveGradJob | FusedJob>((m) => {
  if (m.kind === "contrastive-grads") {
    if (!pending) throw new Error("contrastive gradients requested before any representations");
    const { model, jobs } = pending;
    pending = undefined;
    write(m, model.parameterCount, jobs.map((job, k) => model.contrastiveShardGradients(job, m.g[k]!)));
    return;
  }
  const model = replicaModel(m.config, m.numItems);
  model.setWeightsFlat(m.weights);
  if (m.kind === "contrastive-fused") {
    const result = model.contrastiveShardGradientsFused(m.job, (reps) => {
      m.reps.set(reps);
      Atomics.store(m.phase, 0, 1);
      Atomics.notify(m.phase, 0);
      // The caller answers within its own step; it sets 3 if it gave up.
      while (Atomics.load(m.phase, 0) === 1) Atomics.wait(m.phase, 0, 1, 1000);
      if (Atomics.load(m.phase, 0) !== 2) throw new Error("the calling thread abandoned the contrastive step");
      return m.g.slice();
    });
    write(m, m.weights.length, [result]);
    return;
  }
  if (m.kind === "reps") {
    m.jobs.forEach((job, k) => m.reps[k]!.set(model.contrastiveReps(job)));
    pending = { model, jobs: m.jobs };
    return;
  }
  write(m, m.weights.length, m.jobs.map((job) => model.shardGradients(job)));
});
