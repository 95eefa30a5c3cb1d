/**
 * `rl-train augment`: list the registered ops, or show what one op does.
 *
 * The plain function behind src/cli/augment.ts (nx shape): tests call `runAugment` directly
 * with a dataset in memory; the CLI passes `--env`, whose data is loaded through src/env/spec.ts,
 * imported only when `env` is used (it pulls in the model and tfjs, which `--list` and the text
 * ops never need).
 */
import { Rng } from "../core/rng.ts";
import type { LeaveOneOutSplit, SeqDataset, TrainBatch } from "../data/types.ts";
import { maskToken } from "../data/types.ts";
import { leaveOneOut } from "../data/split.ts";
import type { OpInfo, TextOp } from "../augment/types.ts";
import { buildOpContext, type OpContext } from "../augment/opcontext.ts";
import { titleMaskToken, withContext } from "../augment/context.ts";
import { batchOpNames, createBatchOps, listOpInfos, loadTransformerOps, requireOp, textOps } from "../augment/registry.ts";

/** Options of `runAugment`; defaults in brackets. */
export interface RunAugmentOptions {
  /** List every registered op instead of applying one. [false] */
  list?: boolean;
  /** Print JSON instead of text. [false] */
  json?: boolean;
  /** Op to show, e.g. `crop` or `synonym`. Required unless `list`. */
  op?: string;
  /** Magnitude in [0, 1]. [0.5] */
  magnitude?: number;
  /** Env spec JSON whose dataset is used (batch ops). */
  env?: string;
  /** Dataset to use instead of `env` (tests). */
  dataset?: SeqDataset;
  /** Leave-one-out split of `dataset`; default: computed with `leaveOneOut`. */
  split?: LeaveOneOutSplit;
  /** Users shown (batch ops) or variants drawn (text ops). [5] */
  n?: number;
  /** Seed of the user choice and the op's rng. [1] */
  seed?: number;
  /** Input text(s) for text ops. */
  text?: string | string[];
  /** Longest title shown, in characters. [60] */
  titleWidth?: number;
  /** Receives what the data lost (skipped rows, users too short for the split). [console.error] */
  log?: (line: string) => void;
}

/** One sample as shown: items with titles plus whichever label/context fields the batch has. */
export interface SampleView {
  items: number[];
  titles: string[];
  targets?: number[];
  weights?: number[];
  negatives?: number[];
  attributes?: number[][];
  titleTokens?: string[][];
  times?: number[];
}

/** What `runAugment` printed, as data. */
export type RunAugmentResult =
  | { kind: "list"; ops: OpInfo[]; text: string }
  | { kind: "batch"; op: string; magnitude: number; samples: Array<{ user: number; before: SampleView; after: SampleView }>; labelSmoothing?: number; text: string }
  | { kind: "text"; op: string; magnitude: number; input: string[]; outputs: string[][]; text: string };

/** Run the command; the text (or JSON) is passed to `print` and also returned. */
export async function runAugment(options: RunAugmentOptions, print: (s: string) => void = console.log): Promise<RunAugmentResult> {
  const result = await compute(options);
  print(options.json ? JSON.stringify(result.kind === "list" ? result.ops : { ...result, text: undefined }, null, 2) : result.text);
  return result;
}

async function compute(o: RunAugmentOptions): Promise<RunAugmentResult> {
  const infos = await listOpInfos();
  if (o.list) return { kind: "list", ops: infos, text: formatList(infos) };
  if (!o.op) throw new Error("`--op` is required unless `--list` is given; run `rl-train augment --list` to see the ops");
  const info = requireOp(infos, o.op);
  const magnitude = o.magnitude ?? 0.5;
  if (!(magnitude >= 0 && magnitude <= 1)) throw new RangeError(`\`--magnitude\` must be in [0, 1], got ${magnitude}`);
  const n = o.n ?? 5;
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`\`--n\` must be a positive integer, got ${n}`);
  const rng = new Rng(o.seed ?? 1).child("augment-cli");

  if (info.target === "text") {
    if (o.text === undefined) throw new Error(`op \`${info.name}\` works on text: pass \`--text "..."\``);
    const input = Array.isArray(o.text) ? o.text : [o.text];
    const op = await textOpByName(info.name, input);
    const outputs = Array.from({ length: n }, (_, k) => op.apply(input, magnitude, rng.child(`variant-${k}`)));
    const lines = [`${info.name} (${info.family}) m=${magnitude}: ${info.magnitude}`];
    input.forEach((t, i) => {
      lines.push(`  before: ${t}`);
      outputs.forEach((out, k) => lines.push(`  after${n > 1 ? ` #${k + 1}` : ""}: ${out[i]}`));
    });
    return { kind: "text", op: info.name, magnitude, input, outputs, text: lines.join("\n") };
  }

  const { dataset, split } = await resolveData(o);
  const ctx = buildOpContext({ numItems: dataset.numItems, train: split.train, catalogue: dataset.catalogue });
  const op = requireOp(createBatchOps(ctx), info.name);
  const before = sampleBatch(dataset, split, ctx, n, rng.child("users"));
  const after = op.apply(before, magnitude, rng.child("op"));
  // Context features are long; show them only where they are what the op changes.
  const showContext = info.family === "context";
  const view = (batch: TrainBatch, b: number) => viewSample(batch, b, dataset, ctx, o.titleWidth ?? 60, showContext);
  const samples = Array.from(before.users, (user, b) => ({ user, before: view(before, b), after: view(after, b) }));
  const lines = [`${info.name} (${info.family}) m=${magnitude}: ${info.magnitude}`];
  if (after.labelSmoothing !== undefined) lines.push(`  labelSmoothing: ${before.labelSmoothing ?? 0} -> ${after.labelSmoothing}`);
  for (const s of samples) {
    lines.push(`user ${s.user}`);
    lines.push(...formatSample("before", s.before), ...formatSample("after", s.after));
  }
  return {
    kind: "batch", op: info.name, magnitude, samples,
    ...(after.labelSmoothing !== undefined ? { labelSmoothing: after.labelSmoothing } : {}),
    text: lines.join("\n"),
  };
}

/** A text op by name; transformer ops compute their candidates for `texts` now (needs the local model). */
async function textOpByName(name: string, texts: string[]): Promise<TextOp> {
  const plain = textOps.find((t) => t.name === name);
  if (plain) return plain;
  const { createTransformerOp } = await loadTransformerOps();
  return createTransformerOp(name, { texts });
}

async function resolveData(o: RunAugmentOptions): Promise<{ dataset: SeqDataset; split: LeaveOneOutSplit }> {
  if (o.split) return { dataset: o.split.dataset, split: o.split };
  if (o.dataset) {
    return { dataset: o.dataset, split: leaveOneOut(o.dataset) };
  }
  if (!o.env) {
    throw new Error(`batch ops need data: pass \`--env envs/beauty-sasrec.json\` (batch ops: ${batchOpNames.join(", ")})`);
  }
  const { loadEnvSpec, loadSpecData } = await import("../env/spec.ts");
  return loadSpecData(loadEnvSpec(o.env), { log: o.log ?? ((line) => console.error(line)) });
}

/** A batch of `n` random users with >= 2 training items, with context fields filled. */
export function sampleBatch(dataset: SeqDataset, split: LeaveOneOutSplit, ctx: OpContext, n: number, rng: Rng): TrainBatch {
  const eligible: number[] = [];
  split.train.forEach((s, u) => { if (s.length >= 2) eligible.push(u); });
  if (eligible.length === 0) throw new Error(`dataset \`${dataset.name}\` has no user with >= 2 training items`);
  rng.shuffle(eligible);
  const users = Int32Array.from(eligible.slice(0, n)).sort();
  const seqs = Array.from(users, (u) => split.train[u]!);
  const batch: TrainBatch = { users, seqs, numItems: dataset.numItems };
  if (dataset.timestamps) batch.times = Array.from(users, (u) => dataset.timestamps![u]!.subarray(0, split.train[u]!.length));
  return withContext(batch, ctx);
}

function viewSample(batch: TrainBatch, b: number, dataset: SeqDataset, ctx: OpContext, width: number, showContext: boolean): SampleView {
  const mask = maskToken(dataset.numItems);
  const title = (it: number): string => {
    if (it === mask) return "[MASK]";
    const t = dataset.catalogue?.titles?.[it] ?? "";
    return t.length > width ? `${t.slice(0, width - 1)}…` : t;
  };
  const seq = batch.seqs[b]!;
  const v: SampleView = { items: Array.from(seq), titles: Array.from(seq, title) };
  if (batch.targets) v.targets = Array.from(batch.targets[b]!);
  if (batch.weights) v.weights = Array.from(batch.weights[b]!);
  if (batch.negatives) v.negatives = Array.from(batch.negatives[b]!);
  if (!showContext) return v;
  if (batch.attributes) v.attributes = batch.attributes[b]!.map((a) => Array.from(a));
  if (batch.titleTokens && ctx.titleVocab) {
    const words = ctx.titleVocab.words;
    const tmask = titleMaskToken(ctx.titleVocab.size);
    v.titleTokens = batch.titleTokens[b]!.map((row) => Array.from(row, (id) => (id === tmask ? "[MASK]" : words[id] ?? `#${id}`)));
  }
  if (batch.times) v.times = Array.from(batch.times[b]!);
  return v;
}

function formatSample(label: string, v: SampleView): string[] {
  return v.items.map((it, i) => {
    const parts = [`${i === 0 ? label.padEnd(6) : "".padEnd(6)} ${String(i).padStart(2)} ${String(it).padStart(6)} ${v.titles[i]}`];
    if (v.targets && i < v.items.length - 1 && v.targets[i] !== v.items[i + 1]) parts.push(`=> target ${v.targets[i]}`);
    if (v.weights && i < v.weights.length && v.weights[i] !== 1) parts.push(`w=${v.weights[i]}`);
    if (v.negatives && i < v.negatives.length) parts.push(`neg=${v.negatives[i]}`);
    if (v.attributes) parts.push(`attrs=[${v.attributes[i]!.join(",")}]`);
    if (v.titleTokens) parts.push(`tokens="${v.titleTokens[i]!.join(" ")}"`);
    if (v.times) parts.push(`t=${new Date(v.times[i]! * 1000).toISOString().slice(0, 19)}`);
    return `  ${parts.join("  ")}`;
  });
}

function formatList(infos: OpInfo[]): string {
  const w = Math.max(...infos.map((o) => o.name.length));
  const f = Math.max(...infos.map((o) => o.family.length));
  const lines = [`${"op".padEnd(w)}  ${"family".padEnd(f)}  magnitude m means / description`];
  for (const o of infos) {
    lines.push(`${o.name.padEnd(w)}  ${o.family.padEnd(f)}  ${o.magnitude}`);
    lines.push(`${"".padEnd(w)}  ${"".padEnd(f)}  ${o.description}`);
  }
  return lines.join("\n");
}
