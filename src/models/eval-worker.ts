// Helper thread of EvalPool (eval-pool.ts): its own backend and a scoring replica of the model.
import { rankChunk, type RankingSplit } from "./evaluate.ts";
import { replicaModel, serveHelper } from "./helper-thread.ts";
import type { SASRecConfig, SASRecState } from "./sasrec.ts";

interface SplitMessage { type: "split"; splitId: number; train: Int32Array[]; validTarget: Int32Array; testTarget: Int32Array; numItems: number }
interface RankJob {
  type: "rank"; splitId: number; which: "valid" | "test"; config: SASRecConfig; numItems: number; weights: SASRecState["weights"];
  chunks: Int32Array[]; offsets: Int32Array; ranks: Int32Array; counter: Int32Array;
}

const splits = new Map<number, RankingSplit>();

const ctrl = serveHelper<SplitMessage | RankJob>((m) => {
  if (m.type === "split") {
    splits.set(m.splitId, { train: m.train, validTarget: m.validTarget, testTarget: m.testTarget, dataset: { numItems: m.numItems } });
    return false;
  }
  const split = splits.get(m.splitId);
  if (!split) throw new Error(`no split ${m.splitId} was sent`);
  const model = replicaModel(m.config, m.numItems);
  model.setWeights(m.weights);
  let done = 0;
  // Chunks come sorted by history length, so the last are the most expensive: taking them first
  // (longest-processing-time-first) keeps every thread busy until the end instead of leaving
  // one thread alone with the widest chunk.
  for (let k = Atomics.add(m.counter, 0, 1); k < m.chunks.length; k = Atomics.add(m.counter, 0, 1), done++) {
    const i = m.chunks.length - 1 - k;
    m.ranks.set(rankChunk(model, split, m.which, m.chunks[i]!), m.offsets[i]!);
  }
  Atomics.store(ctrl, 1, done);
});
