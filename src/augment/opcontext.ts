/**
 * Dataset context the batch ops need (item count, correlation, popularity, side information),
 * built once per dataset by `buildOpContext`, plus `defineBatchOp`, which wraps every op with
 * the contract checks shared by all of them.
 */
import type { Rng } from "../core/rng.ts";
import type { Catalogue, TrainBatch } from "../data/types.ts";
import type { BatchOp, OpInfo } from "./types.ts";
import { checkNeighbourTable, cooccurrenceNeighbours, itemCounts, PopularitySampler } from "./correlation.ts";
import { buildTitleVocab, type TitleVocab } from "./titles.ts";

/** Everything a batch op may look up. Build with `buildOpContext`. */
export interface OpContext {
  /** Items are 1..numItems; numItems + 1 is the mask token. */
  numItems: number;
  /** `neighbours[item]`: correlated items, best first (row 0 unused). */
  neighbours: readonly Int32Array[];
  /** Training-set occurrence count per item (index 0 unused). */
  popularity: Float64Array;
  /** Draws items in proportion to popularity. */
  popularitySampler: PopularitySampler;
  /** `itemAttributes[item]` from the catalogue, if it has attributes. */
  itemAttributes?: readonly Int32Array[];
  /** Attribute ids run 1..numAttributes; numAttributes + 1 is the attribute mask token. */
  numAttributes?: number;
  /** Title vocabulary and per-item title tokens, if the catalogue has titles. */
  titleVocab?: TitleVocab;
  /** Largest label-smoothing epsilon (`label-smoothing` at magnitude 1). Default 0.2. */
  maxLabelSmoothing: number;
}

/** Inputs of `buildOpContext`. */
export interface OpContextOptions {
  numItems: number;
  /** Training sequences only (e.g. `split.train`): correlation and popularity must not see held-out items. */
  train: readonly Int32Array[];
  /** Item side information for the context ops. */
  catalogue?: Catalogue;
  /** A precomputed neighbour table (e.g. from title embeddings); default: co-occurrence in `train`. */
  neighbours?: readonly Int32Array[];
  /** Neighbours per item for the co-occurrence table. Default 10. */
  topK?: number;
  /** Co-occurrence window in positions. Default 3. */
  window?: number;
  /** See `OpContext.maxLabelSmoothing`. Default 0.2. */
  maxLabelSmoothing?: number;
  /** Longest title kept, in tokens. Default 16. */
  maxTitleTokens?: number;
}

/** Build the op context for a dataset; ~0.7 s for Beauty (12k items, 154k training interactions). */
export function buildOpContext(opts: OpContextOptions): OpContext {
  const { numItems, train, catalogue } = opts;
  if (!(Number.isInteger(numItems) && numItems >= 2)) throw new RangeError(`\`numItems\` must be an integer >= 2, got ${numItems}`);
  let neighbours: readonly Int32Array[];
  if (opts.neighbours) {
    checkNeighbourTable(opts.neighbours, numItems);
    neighbours = opts.neighbours;
  } else {
    neighbours = cooccurrenceNeighbours(train, numItems, { topK: opts.topK, window: opts.window });
  }
  const popularity = itemCounts(train, numItems);
  const ctx: OpContext = {
    numItems,
    neighbours,
    popularity,
    popularitySampler: new PopularitySampler(popularity),
    maxLabelSmoothing: opts.maxLabelSmoothing ?? 0.2,
  };
  if (!(ctx.maxLabelSmoothing >= 0 && ctx.maxLabelSmoothing < 1)) {
    throw new RangeError(`\`maxLabelSmoothing\` must be in [0, 1), got ${ctx.maxLabelSmoothing}`);
  }
  if (catalogue?.attributes) {
    ctx.itemAttributes = catalogue.attributes;
    let max = catalogue.numAttributes ?? 0;
    if (!catalogue.numAttributes) for (const a of catalogue.attributes) if (a) for (const id of a) max = Math.max(max, id);
    ctx.numAttributes = max;
  }
  if (catalogue?.titles) ctx.titleVocab = buildTitleVocab(catalogue.titles, { maxTokens: opts.maxTitleTokens });
  return ctx;
}

/** The function part of an op: called only for magnitude in (0, 1]. */
export type ApplyFn = (batch: TrainBatch, magnitude: number, rng: Rng) => TrainBatch;

/**
 * A `BatchOp` from its declaration and apply function. Enforces the shared part of the contract:
 * magnitude must be a number in [0, 1] (else a RangeError naming the op), and magnitude 0 returns
 * the very same batch without drawing from the rng.
 */
export function defineBatchOp(info: OpInfo & { target: "batch" }, apply: ApplyFn): BatchOp {
  return {
    ...info,
    apply(batch, magnitude, rng) {
      if (!(magnitude >= 0 && magnitude <= 1)) {
        throw new RangeError(`op \`${info.name}\`: \`magnitude\` must be in [0, 1], got ${magnitude}`);
      }
      if (magnitude === 0 || batch.seqs.length === 0) return batch;
      return apply(batch, magnitude, rng);
    },
  };
}
