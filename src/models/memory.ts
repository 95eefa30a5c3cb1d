/**
 * Up-front memory estimate of a SASRec run from its spec and item count.
 *
 * A model too large for the machine does not fail politely: the wasm backend ends in a bare
 * `Aborted()` once its heap cannot grow, V8 in a fatal out-of-memory stack (exit 134). The
 * estimate runs before any tensor exists, so such a spec fails with a message naming the keys
 * and the sizes instead. It counts what grows with the spec, not every byte:
 *
 * - the parameters, four float32 each: the weight, its gradient in a step (the item table's
 *   gradient is dense) and Adam's two moments;
 * - scoring: the transposed item table the evaluator keeps, plus one chunk of users × items
 *   scores (`evaluate`'s default chunk: a sixteenth of the users, 64 to 512).
 *
 * Helper threads (`--eval-threads`, `--train-threads`) hold further copies of the weights in
 * their own heaps, which is one reason the limit below keeps half of the machine's memory free.
 */
import type { SASRecConfig } from "./sasrec.ts";

/** The spec keys the estimate reads. */
export type ModelSize = Pick<SASRecConfig, "hiddenSize" | "numBlocks" | "innerSize" | "maxLen">;

export interface ModelMemoryEstimate {
  parameters: number;
  /** Item table [numItems + 2, hiddenSize], float32. */
  itemTableBytes: number;
  /** Weights, gradients and Adam moments: 16 bytes per parameter. */
  trainingBytes: number;
  /** Users per scoring chunk. */
  chunkUsers: number;
  /** Transposed item table plus one chunk of scores. */
  scoringBytes: number;
  totalBytes: number;
}

/** Parameters of SASRec as src/models/sasrec.ts builds it (embeddings, blocks, layer norms). */
export function sasrecParameters(model: ModelSize, numItems: number): number {
  const d = model.hiddenSize;
  const inner = model.innerSize;
  const embeddings = (numItems + 2) * d + model.maxLen * d + 2 * d;
  // Q, K, V, O with biases; two layer norms; the feed-forward pair with biases.
  const block = 4 * (d * d + d) + 2 * 2 * d + d * inner + inner + inner * d + d;
  return embeddings + model.numBlocks * block;
}

/** Bytes a run of `model` over `numItems` items and `users` users needs at least (see the header). */
export function estimateModelMemory(model: ModelSize, numItems: number, users: number): ModelMemoryEstimate {
  const parameters = sasrecParameters(model, numItems);
  const itemTableBytes = 4 * (numItems + 2) * model.hiddenSize;
  const trainingBytes = 16 * parameters;
  const chunkUsers = Math.min(512, Math.max(64, Math.ceil(users / 16)));
  const scoringBytes = itemTableBytes + 4 * chunkUsers * (numItems + 2);
  return { parameters, itemTableBytes, trainingBytes, chunkUsers, scoringBytes, totalBytes: trainingBytes + scoringBytes };
}

/** The most a wasm32 heap can address; tfjs-backend-wasm's module declares this maximum. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * Memory a model may take: half of the machine's (the other half is for helper threads' weight
 * copies, the data, the JS heap and the system), and on every backend but tfjs-node
 * (`tensorflow`) at most one wasm heap, since the wasm backend keeps every tensor there and is
 * what runs wherever tfjs-node is not installed.
 */
export function modelMemoryLimit(totalMemory: number, tfBackend: string | undefined): { bytes: number; rule: string } {
  const half = totalMemory / 2;
  const halfRule = `half of this machine's ${gb(totalMemory)}`;
  if (tfBackend === "tensorflow" || half <= WASM_HEAP_BYTES) return { bytes: half, rule: halfRule };
  return { bytes: WASM_HEAP_BYTES, rule: `the wasm backend's 4 GiB heap; ${halfRule} would be ${gb(half)}` };
}

/**
 * Throws unless `estimateModelMemory` fits `modelMemoryLimit`. The message names `source` (the
 * spec file), the sizes and the spec keys that shrink the model.
 */
export function checkModelMemory(
  source: string,
  model: ModelSize,
  numItems: number,
  users: number,
  machine: { totalMemory: number; tfBackend: string | undefined },
): ModelMemoryEstimate {
  const est = estimateModelMemory(model, numItems, users);
  const limit = modelMemoryLimit(machine.totalMemory, machine.tfBackend);
  if (est.totalBytes <= limit.bytes) return est;
  const n = (x: number) => x.toLocaleString("en-US");
  throw new Error(
    `${source}: the model would need about ${gb(est.totalBytes)}, above the limit of ${gb(limit.bytes)} (${limit.rule}): ` +
      `item table ${n(numItems + 2)} × ${model.hiddenSize} float32 = ${gb(est.itemTableBytes)}; ` +
      `weights, gradients and Adam moments of ${n(est.parameters)} parameters = ${gb(est.trainingBytes)}; ` +
      `scoring ${est.chunkUsers} users × ${n(numItems + 2)} items plus the transposed item table = ${gb(est.scoringBytes)}. ` +
      `Lower \`model.hiddenSize\` (${model.hiddenSize}), \`model.numBlocks\` (${model.numBlocks}) or \`model.innerSize\` (${model.innerSize}), ` +
      `or use data with fewer items (\`dataset.path\` has ${n(numItems)})`,
  );
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.ceil(bytes / 1e6)} MB`;
}
