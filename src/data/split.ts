/**
 * Leave-one-out split (the SASRec / S3-Rec protocol): per user, the last item is the test
 * target, the second-last the validation target, everything before it is training data.
 *
 * Rule for short users: a user with fewer than 3 items cannot give a training item plus two
 * targets, so it is left out of the split and counted in `excludedUsers`; `split.dataset` holds
 * only the kept users (same order), so indices line up everywhere. Beauty has no such user
 * (every user has >= 5 items).
 */
import type { LeaveOneOutSplit, SeqDataset } from "./types.ts";

/** Minimum sequence length for a user to be in a leave-one-out split. */
export const MIN_SPLIT_LENGTH = 3;

/** Split a dataset leave-one-out. `train[u]` is a view into the dataset's sequence (not a copy): do not mutate it. */
export function leaveOneOut(dataset: SeqDataset): LeaveOneOutSplit {
  const seqs = dataset.sequences;
  let kept = 0;
  for (const s of seqs) if (s.length >= MIN_SPLIT_LENGTH) kept++;
  if (kept === 0) {
    throw new Error(
      `leaveOneOut: dataset "${dataset.name}" has no user with >= ${MIN_SPLIT_LENGTH} items (${seqs.length} users); ` +
        "each user needs a training item, a validation and a test item",
    );
  }
  const excludedUsers = seqs.length - kept;
  const kept_ = excludedUsers === 0 ? dataset : keepUsers(dataset, (u) => seqs[u]!.length >= MIN_SPLIT_LENGTH);

  const n = kept_.sequences.length;
  const train: Int32Array[] = new Array(n);
  const validTarget = new Int32Array(n);
  const testTarget = new Int32Array(n);
  for (let u = 0; u < n; u++) {
    const s = kept_.sequences[u]!;
    const len = s.length;
    train[u] = s.subarray(0, len - 2);
    validTarget[u] = s[len - 2]!;
    testTarget[u] = s[len - 1]!;
  }
  return { dataset: kept_, train, validTarget, testTarget, excludedUsers };
}

/** A dataset restricted to the users where `keep(u)` is true, optional per-user fields kept aligned. */
export function keepUsers(dataset: SeqDataset, keep: (u: number) => boolean): SeqDataset {
  const idx: number[] = [];
  for (let u = 0; u < dataset.sequences.length; u++) if (keep(u)) idx.push(u);
  const out: SeqDataset = { ...dataset, sequences: idx.map((u) => dataset.sequences[u]!) };
  if (dataset.userIds) out.userIds = idx.map((u) => dataset.userIds![u]!);
  if (dataset.timestamps) out.timestamps = idx.map((u) => dataset.timestamps![u]!);
  return out;
}
