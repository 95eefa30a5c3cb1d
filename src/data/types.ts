/**
 * Data types shared by every layer above `data/`.
 *
 * Item ids are 1..numItems; 0 is padding and `numItems + 1` is the mask token (see `maskToken`).
 */

/** A sequential-recommendation dataset: one chronological item sequence per user. */
export interface SeqDataset {
  /** Short name used in protocols and run ids, e.g. `beauty`. */
  name: string;
  /** Item ids run 1..numItems. */
  numItems: number;
  /** `sequences[u]` is user u's items, oldest first (user index u = 0..numUsers-1). */
  sequences: Int32Array[];
  /** Optional original user ids (from the file), same order as `sequences`. */
  userIds?: string[];
  /**
   * Optional original item ids (from an interaction log), indexed by item id: `itemIds[item]`,
   * index 0 unused (""). Lets a user map recommendations back to their own catalogue.
   */
  itemIds?: string[];
  /** Optional per-user timestamps (seconds), aligned with `sequences`. */
  timestamps?: Float64Array[];
  /** Optional item side information. */
  catalogue?: Catalogue;
}

/** Item side information: titles and attribute ids, indexed by item id (index 0 unused). */
export interface Catalogue {
  /** `titles[item]`; "" where unknown. */
  titles?: string[];
  /** `attributes[item]`: attribute ids (1..numAttributes). */
  attributes?: Int32Array[];
  numAttributes?: number;
}

/** The mask token id for a dataset with `numItems` items. */
export function maskToken(numItems: number): number {
  return numItems + 1;
}

/** Leave-one-out split: per user, train = all but the last two, valid target = second last, test target = last. */
export interface LeaveOneOutSplit {
  dataset: SeqDataset;
  /** Training sequence per user (items before the validation item). Length >= 1 for 3+ item users. */
  train: Int32Array[];
  /** Validation target per user (second-last item). */
  validTarget: Int32Array;
  /** Test target per user (last item). */
  testTarget: Int32Array;
  /**
   * Users of the source dataset left out because they have fewer than 3 items (a user needs one
   * training item, a validation target and a test target). `dataset` then holds only the kept
   * users, so user index u means the same user in `dataset`, `train` and both targets. Default 0.
   */
  excludedUsers?: number;
}

/**
 * One training batch for a next-item model.
 *
 * `seqs[b]` is a training sequence; the model predicts `seqs[b][t+1]` from `seqs[b][0..t]`
 * (inputs = seq without its last item, targets = seq without its first item). Augmentation ops
 * rewrite `seqs` (sequence ops) or fill the optional label/context fields (label and context
 * ops); a model ignores fields it does not use, and a missing field means "default".
 */
export interface TrainBatch {
  /** User index per sample, [B]. */
  users: Int32Array;
  /** Item sequence per sample, oldest first, each length >= 2; ids in 1..numItems (or the mask token as *input*). */
  seqs: Int32Array[];
  /** Number of real items (dataset.numItems); mask token = numItems + 1. */
  numItems: number;
  /**
   * Optional explicit target per input position (length seqs[b].length - 1). Default: seqs[b].slice(1).
   * Set by label ops such as `target-jitter`; lets sequence ops mask inputs while keeping true targets.
   */
  targets?: Int32Array[];
  /** Optional per-position loss weight (length seqs[b].length - 1), default 1. `rank-truncate` zeroes the oldest. */
  weights?: Float32Array[];
  /**
   * Divide the summed position losses by this instead of the batch's own (weighted) position
   * count. Length-bucketed batches hold very different numbers of positions; a per-epoch constant
   * keeps every position's weight equal across batches, as in randomly composed batches.
   */
  lossDenominator?: number;
  /** Label-smoothing epsilon for the loss, default 0. */
  labelSmoothing?: number;
  /**
   * Optional negative item per position (length seqs[b].length - 1), read by the BCE loss only
   * (CE scores every item). A missing array or an entry <= 0 means the model draws one uniformly
   * from the items outside the sample's sequence and targets.
   */
  negatives?: Int32Array[];
  /** Optional per-position attribute ids of the input items (context features). */
  attributes?: Int32Array[][];
  /** Optional per-position timestamps (seconds) of the input items. */
  times?: Float64Array[];
  /**
   * Optional per-position title token ids of the items (context features), aligned with `seqs[b]`
   * (length seqs[b].length). Ids 1..V index the title vocabulary built by `buildTitleVocab` in
   * src/augment/titles.ts, V + 1 is the title mask token, and an empty array means "no title".
   * Filled by `withContext(batch, ctx)`; rewritten by the `title-token-*` ops.
   */
  titleTokens?: Int32Array[][];
}
