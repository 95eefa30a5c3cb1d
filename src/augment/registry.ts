/**
 * The op registry: one ordered list of every augmentation op.
 *
 * The order is sequence → label → context → text → transformer; `--list` and the docs show it.
 * An env's action space is not built from it: `rl.ops` in the env spec names the ops and their
 * order (identity first), so adding an op here changes no existing spec. Unknown names throw
 * and list the known ones.
 *
 * Batch ops need dataset context and are built by `createBatchOps(ctx)`; `batchOpInfos` serves
 * `--list` without data. Text ops (src/augment/text) need no context and are listed as they
 * are; transformer ops (src/augment/transformer) load models, so they are imported lazily
 * (`loadTransformerOps`, `listOpInfos`).
 */
import type { BatchOp, OpInfo } from "./types.ts";
import type { OpContext } from "./opcontext.ts";
import { createSequenceOps, sequenceOpInfos } from "./sequence.ts";
import { createLabelOps, labelOpInfos } from "./label.ts";
import { contextOpInfos, createContextOps } from "./context.ts";
import { textOps } from "./text/index.ts";

/** Every batch op's declaration, in registry (action-space) order. */
export const batchOpInfos: readonly OpInfo[] = [...sequenceOpInfos, ...labelOpInfos, ...contextOpInfos];

/** Names of the batch ops, in registry order. */
export const batchOpNames: readonly string[] = batchOpInfos.map((o) => o.name);

/** Build every batch op for a dataset, keyed by name; iteration order is registry order. */
export function createBatchOps(ctx: OpContext): Map<string, BatchOp> {
  const ops = [...createSequenceOps(ctx), ...createLabelOps(ctx), ...createContextOps(ctx)];
  const map = new Map<string, BatchOp>();
  for (const op of ops) map.set(op.name, op);
  return map;
}

/** The op called `name`; throws listing the known names. */
export function requireOp<T extends { name: string }>(ops: ReadonlyMap<string, T> | readonly T[], name: string): T {
  const found = Array.isArray(ops) ? (ops as readonly T[]).find((o) => o.name === name) : (ops as ReadonlyMap<string, T>).get(name);
  if (!found) {
    const known = Array.isArray(ops) ? (ops as readonly T[]).map((o) => o.name) : [...(ops as ReadonlyMap<string, T>).keys()];
    throw new Error(`unknown augmentation op \`${name}\`; known ops: ${known.join(", ")}`);
  }
  return found;
}

/** The text ops (EDA-style, no dataset context), in registry order. */
export { textOps };

/**
 * Every op that needs no model download, declared statically (batch ops, then text ops): enough
 * for `--list` and for an action space without data. `listOpInfos()` adds the transformer ops.
 */
export const opInfos: readonly OpInfo[] = [
  ...batchOpInfos,
  ...textOps.map(({ name, family, target, description, magnitude, reference }): OpInfo => ({
    name, family, target, description, magnitude, ...(reference ? { reference } : {}),
  })),
];

/** What the registry uses from src/augment/transformer. */
export type TransformerOpModule = Pick<typeof import("./transformer/index.ts"), "transformerOpInfos" | "createTransformerOp">;

/**
 * Load src/augment/transformer on first use: it pulls in @xenova/transformers (~1 s to import),
 * which the env and agents never need, so it stays out of this module's static imports.
 */
export async function loadTransformerOps(): Promise<TransformerOpModule> {
  const { transformerOpInfos, createTransformerOp } = await import("./transformer/index.ts");
  return { transformerOpInfos, createTransformerOp };
}

/** Every registered op (batch, then text, then transformer), in registry order; throws on duplicate names. */
export async function listOpInfos(): Promise<OpInfo[]> {
  const { transformerOpInfos } = await loadTransformerOps();
  const strip = (o: OpInfo): OpInfo => ({
    name: o.name, family: o.family, target: o.target, description: o.description, magnitude: o.magnitude,
    ...(o.reference ? { reference: o.reference } : {}),
  });
  const all = [...opInfos, ...transformerOpInfos].map(strip);
  const seen = new Set<string>();
  for (const o of all) {
    if (seen.has(o.name)) throw new Error(`op name \`${o.name}\` is registered twice; op names must be unique`);
    seen.add(o.name);
  }
  return all;
}
