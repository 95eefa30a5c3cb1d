/**
 * Contrastive views: what `rl.mode: contrastive` contrasts for each user of a batch.
 *
 * Every non-identity action makes one pair of views per user:
 * - sequence ops (crop, mask, reorder, substitute, insert, …; CL4SRec, Xie et al., ICDE 2022;
 *   CoSeRec's informative substitute and insert, Liu et al. 2021): the action's sub-policy is
 *   applied twice, independently, to the batch; each augmented sequence without its last item
 *   is one view.
 * - `dropout-view` (DuoRec's unsupervised augmentation, Qiu et al., WSDM 2022): the user's own
 *   input sequence encoded a second time, so the two views differ only in their dropout masks;
 *   the first view is the recommendation pass itself (`"anchor"`), as in DuoRec's code.
 * - `supervised-positive` (DuoRec's supervised sampling): another training sequence whose next
 *   item is the user's next item, drawn uniformly from the seeded stream among every training
 *   prefix with that next item (any user, any position, the user's own last one excluded), cut
 *   to its last `maxLen` items; its partner is the recommendation pass. When no other sequence
 *   has that next item, the user's own input sequence stands in (as in DuoRec's released code),
 *   which makes that user's pair a dropout-only one. DuoRec contrasts a second dropout pass of
 *   the input with the positive; the recommendation pass is such a dropout pass of the same
 *   input, so it serves as that view and saves one encoder pass.
 * View ops take no magnitude (any magnitude > 0 applies them) and stand alone: a spec that lists
 * one must use `rl.slots: 1`.
 */
import type { Rng } from "../core/rng.ts";
import type { TrainBatch } from "../data/types.ts";
import { applySubPolicy, type ApplyMode, type SubPolicyStep } from "./subpolicy.ts";
import type { BatchOp, OpInfo } from "./types.ts";

/** The two views of every user of a batch, in batch order; sequences are encoder inputs (no target). */
export interface ViewPair {
  first: "anchor" | Int32Array[];
  second: Int32Array[];
}

const viewInfo = (name: string, description: string, reference: string): OpInfo => ({
  name, family: "view", target: "batch", description, magnitude: "none (any magnitude > 0 applies the op)", reference,
});

/** Declarations of the view ops (contrastive mode only), in registry order. */
export const viewOpInfos: readonly OpInfo[] = [
  viewInfo("dropout-view", "Contrast the recommendation pass with the same input sequence encoded again under other dropout masks.", "DuoRec (Qiu et al., WSDM 2022), unsupervised augmentation"),
  viewInfo("supervised-positive", "Contrast the recommendation pass with another training sequence that has the same next item (own sequence if none).", "DuoRec (Qiu et al., WSDM 2022), supervised positive sampling"),
];

export const viewOpNames: readonly string[] = viewOpInfos.map((o) => o.name);

/**
 * Every training prefix by its next item: for item t, each (user, position p >= 1) with
 * train[user][p] = t stands for the sequence train[user][0..p) whose next item is t.
 */
export class SameTargetIndex {
  private readonly start: Int32Array;
  private readonly user: Int32Array;
  private readonly pos: Int32Array;

  constructor(private readonly train: readonly Int32Array[], numItems: number, private readonly maxLen: number) {
    const count = new Int32Array(numItems + 2);
    for (const s of train) for (let p = 1; p < s.length; p++) count[s[p]! + 1]!++;
    for (let t = 1; t < count.length; t++) count[t]! += count[t - 1]!;
    this.start = count;
    const fill = count.slice();
    this.user = new Int32Array(count[numItems + 1]!);
    this.pos = new Int32Array(count[numItems + 1]!);
    train.forEach((s, u) => {
      for (let p = 1; p < s.length; p++) {
        const k = fill[s[p]!]!++;
        this.user[k] = u;
        this.pos[k] = p;
      }
    });
  }

  /** How many training prefixes have next item `target`. */
  count(target: number): number {
    return this.start[target + 1]! - this.start[target]!;
  }

  /**
   * A uniformly drawn prefix with next item `target`, other than (`user`, `position`); undefined
   * when there is none. One draw from `rng` whenever a candidate exists.
   */
  draw(target: number, user: number, position: number, rng: Rng): Int32Array | undefined {
    const from = this.start[target]!;
    const n = this.count(target);
    let own = -1;
    for (let k = from; k < from + n; k++) if (this.user[k] === user && this.pos[k] === position) own = k;
    const m = own >= 0 ? n - 1 : n;
    if (m <= 0) return undefined;
    let k = from + rng.int(m);
    if (own >= 0 && k >= own) k++;
    const s = this.train[this.user[k]!]!;
    const p = this.pos[k]!;
    return s.subarray(Math.max(0, p - this.maxLen), p);
  }
}

/** Everything `makeViews` reads besides the batch and the action. */
export interface ViewContext {
  /** The batch ops, by name (`createBatchOps`). */
  ops: ReadonlyMap<string, BatchOp>;
  applyMode: ApplyMode;
  /** Required for `supervised-positive`. */
  sameTarget?: SameTargetIndex;
  /** The users' full training sequences (`split.train`), to locate each user's own last prefix. */
  train: readonly Int32Array[];
}

/** Encoder inputs of a training sequence: all but its last item (a 1-item sequence stays as it is). */
export function inputsOf(s: Int32Array): Int32Array {
  return s.length > 1 ? s.subarray(0, s.length - 1) : s;
}

/** The pair of views a non-empty sub-policy makes for `batch` (see the header); draws from `rng`. */
export function makeViews(batch: TrainBatch, policy: readonly SubPolicyStep[], ctx: ViewContext, rng: Rng): ViewPair {
  const view = policy.find((p) => viewOpNames.includes(p.op));
  if (view && policy.length > 1) {
    throw new Error(`view op \`${view.op}\` stands alone, got the sub-policy ${policy.map((p) => p.op).join(" + ")}; use \`rl.slots: 1\` with view ops`);
  }
  if (view?.op === "dropout-view") return { first: "anchor", second: batch.seqs.map(inputsOf) };
  if (view?.op === "supervised-positive") {
    const index = ctx.sameTarget;
    if (!index) throw new Error("`supervised-positive` needs a SameTargetIndex in the view context");
    const second = batch.seqs.map((s, b) => {
      const u = batch.users[b]!;
      const own = ctx.train[u]!.length - 1;
      return index.draw(s[s.length - 1]!, u, own, rng) ?? inputsOf(s);
    });
    return { first: "anchor", second };
  }
  const a = applySubPolicy(batch, policy, ctx.ops, rng, ctx.applyMode);
  const b = applySubPolicy(batch, policy, ctx.ops, rng, ctx.applyMode);
  return { first: a.seqs.map(inputsOf), second: b.seqs.map(inputsOf) };
}
