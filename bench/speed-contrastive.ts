/**
 * Cost of one training epoch per loss and per contrastive view, on the env spec's data with its
 * gradient shards (Beauty: 2) on `--train-threads` threads. Every configuration trains a fresh
 * model on the same seeded, length-bucketed, per-epoch-normalised batches after the same
 * untimed warm-up; the full-softmax `ce` epoch is extrapolated from a sample of batches (a
 * least-squares fit of step time against positions × items, summed over the epoch's batches),
 * because a measured one takes minutes.
 *
 *   npm run bench:speed-contrastive -- [--env envs/beauty-sasrec.json] [--configs bce,bce+dropout-view,…]
 *       [--recipe sampled-softmax+dropout-view] [--ce-batches 12] [--train-threads auto] [--seed 1]
 *       [--magnitude 0.2] [--name speed-contrastive]
 *
 * A configuration is `<loss>` (plain steps) or `<loss>+<view op>` (contrastive steps with
 * `rl.contrastive` from the spec). Writes bench/results/<name>.json and .md with
 * `plain_epoch_s` (bce), `contrastive_epoch_s` and `contrastive_ratio` (the `--recipe`
 * configuration against the plain epoch of its own loss), every configuration's epoch time, and
 * the load average before and after.
 */
import * as os from "node:os";
import { parseArgs } from "node:util";
import { Rng } from "../src/core/rng.ts";
import { normaliseLossPerEpoch } from "../src/data/batches.ts";
import { bucketedTrainBatches } from "../src/data/bucketing.ts";
import type { TrainBatch } from "../src/data/types.ts";
import { fixedViewStep } from "../src/env/fixed-views.ts";
import { loadEnvSpec, loadSpecData } from "../src/env/spec.ts";
import { SASRec, type SASRecConfig } from "../src/models/sasrec.ts";
import { createTrainPool } from "../src/models/train-pool.ts";
import { shardThreads } from "../src/models/helper-thread.ts";
import { parseThreads } from "../src/cli/options.ts";
import { selectBackend, type BackendChoice } from "../src/tf/backend.ts";
import { markdownTable, provenance, writeResult } from "./report.ts";

const { values: a } = parseArgs({
  options: {
    env: { type: "string", default: "envs/beauty-sasrec.json" },
    configs: { type: "string", default: "bce,sampled-softmax,gbce,ce,bce+dropout-view,bce+supervised-positive,bce+crop,sampled-softmax+dropout-view,sampled-softmax+supervised-positive" },
    recipe: { type: "string", default: "sampled-softmax+dropout-view" },
    "ce-batches": { type: "string", default: "12" },
    magnitude: { type: "string", default: "0.2" },
    seed: { type: "string", default: "1" },
    backend: { type: "string", default: "auto" },
    "train-threads": { type: "string", default: "auto" },
    name: { type: "string", default: "speed-contrastive" },
  },
});
const LOSSES = ["bce", "ce", "sampled-softmax", "gbce"] as const;
type Loss = (typeof LOSSES)[number];
const configs = a.configs!.split(",").map((c) => {
  const [loss, view] = c.split("+") as [string, string | undefined];
  if (!(LOSSES as readonly string[]).includes(loss)) throw new Error(`\`--configs\`: unknown loss \`${loss}\` in "${c}"; known: ${LOSSES.join(", ")}`);
  return { name: c, loss: loss as Loss, view };
});
if (!configs.some((c) => c.name === a.recipe)) throw new Error(`\`--recipe\` ${a.recipe} is not among \`--configs\``);
const seed = Number(a.seed);
const magnitude = Number(a.magnitude);
const loadBefore = os.loadavg();
const backend = await selectBackend(a.backend as BackendChoice);
const spec = loadEnvSpec(a.env!);
const { split } = loadSpecData(spec);
const pool = createTrainPool(parseThreads("--train-threads", a["train-threads"]), backend.name, (l) => console.error(l));
const batches = bucketedTrainBatches(split, { batchSize: spec.training.batchSize, maxLen: spec.model.maxLen, rng: new Rng(seed).child("batches"), withTimes: false });
normaliseLossPerEpoch(batches);
// Warm-up: batches spread over the padded lengths (the longest included, so the wasm heap has grown).
const byLength = [...batches].sort((x, y) => x.seqs.at(-1)!.length - y.seqs.at(-1)!.length);
const warm = [0, 0.25, 0.5, 0.75, 1].map((q) => byLength[Math.round(q * (byLength.length - 1))]!);
const positions = (b: TrainBatch) => b.seqs.length * Math.min(spec.model.maxLen, Math.max(...b.seqs.map((s) => s.length - 1)));

interface Row {
  config: string; loss: Loss; view: string; epoch_s: number; ms_per_batch: number; extrapolated: boolean;
  /** CPU seconds of the whole process (every thread): less sensitive than wall time to other jobs on the machine. */
  cpu_s: number;
  ratio_to_plain_same_loss?: number; cpu_ratio_to_plain_same_loss?: number;
}
const rows: Row[] = [];
for (const c of configs) {
  const model = new SASRec({ ...spec.model, loss: c.loss } as SASRecConfig, split.dataset.numItems, new Rng(seed).child("model"), { shardRunner: pool });
  const step = c.view ? fixedViewStep(spec, split, model, c.view, magnitude, new Rng(seed).child("augment")) : (b: TrainBatch) => model.trainStep(b);
  for (const b of warm) step(b);
  let seconds: number;
  let cpu: number;
  let extrapolated = false;
  const cpu0 = process.cpuUsage();
  if (c.loss === "ce" && !c.view) {
    // Sample batches across the length range; fit ms = p0 + p1·positions; sum over the epoch.
    const k = Math.min(Number(a["ce-batches"]), batches.length);
    const sample = Array.from({ length: k }, (_, i) => byLength[Math.round((i * (byLength.length - 1)) / Math.max(1, k - 1))]!);
    const xs: number[] = [];
    const ys: number[] = [];
    for (const b of sample) {
      const t = performance.now();
      step(b);
      xs.push(positions(b));
      ys.push(performance.now() - t);
      console.error(`[speed-contrastive] ce: ${positions(b)} positions ${ys.at(-1)!.toFixed(0)} ms`);
    }
    const mx = xs.reduce((s, x) => s + x, 0) / k;
    const my = ys.reduce((s, y) => s + y, 0) / k;
    const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / Math.max(1e-9, xs.reduce((s, x) => s + (x - mx) ** 2, 0));
    seconds = batches.reduce((s, b) => s + Math.max(0, my + slope * (positions(b) - mx)), 0) / 1000;
    const used = process.cpuUsage(cpu0);
    cpu = (((used.user + used.system) / 1e6) * seconds * 1000) / ys.reduce((s, y) => s + y, 0);
    extrapolated = true;
  } else {
    const t = performance.now();
    batches.forEach((b) => step(b));
    seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu0);
    cpu = (used.user + used.system) / 1e6;
  }
  model.dispose();
  rows.push({ config: c.name, loss: c.loss, view: c.view ?? "none (plain)", epoch_s: round(seconds), ms_per_batch: round((1000 * seconds) / batches.length), extrapolated, cpu_s: round(cpu) });
  console.error(`[speed-contrastive] ${c.name}: ${seconds.toFixed(1)} s per epoch, ${cpu.toFixed(1)} CPU s${extrapolated ? " (extrapolated)" : ""}`);
}
await pool.close();
for (const r of rows) {
  const plain = rows.find((p) => p.loss === r.loss && p.view === "none (plain)");
  if (plain && r !== plain) {
    r.ratio_to_plain_same_loss = round(r.epoch_s / plain.epoch_s);
    r.cpu_ratio_to_plain_same_loss = round(r.cpu_s / plain.cpu_s);
  }
}
const plainBce = rows.find((r) => r.config === "bce");
const recipe = rows.find((r) => r.config === a.recipe)!;
const recipePlain = rows.find((r) => r.loss === recipe.loss && r.view === "none (plain)");
const ce = rows.find((r) => r.config === "ce");
const loadAfter = os.loadavg();
const prov = provenance();
const json = {
  dataset: split.dataset.name, batches_per_epoch: batches.length, batch_size: spec.training.batchSize,
  gradient_shards: spec.model.gradientShards, train_threads: shardThreads(spec.model.gradientShards, pool.threads), backend: backend.name,
  contrastive: spec.rl.contrastive, view_magnitude: magnitude, negatives: spec.model.negatives,
  plain_epoch_s: plainBce?.epoch_s ?? null,
  recipe: a.recipe, contrastive_epoch_s: recipe.epoch_s,
  contrastive_ratio: recipePlain ? round(recipe.epoch_s / recipePlain.epoch_s) : null,
  contrastive_cpu_ratio: recipePlain ? round(recipe.cpu_s / recipePlain.cpu_s) : null,
  contrastive_ratio_vs_plain_bce: plainBce ? round(recipe.epoch_s / plainBce.epoch_s) : null,
  ce_epoch_s: ce?.epoch_s ?? null, bce_epoch_s: plainBce?.epoch_s ?? null, ce_extrapolated: ce?.extrapolated ?? null,
  configs: rows,
  load_average_before: loadBefore.map((x) => round(x)), load_average_after: loadAfter.map((x) => round(x)),
  commit: prov.commit, dirty: prov.dirty, command: prov.command, machine: prov.machine, date: prov.date,
};
const md = [
  `# Epoch cost per loss and contrastive view (${split.dataset.name})`, "",
  `${batches.length} length-bucketed batches of ${spec.training.batchSize}, ${spec.model.gradientShards} gradient shard(s) on ${json.train_threads} thread(s), backend ${backend.name}; contrastive ${JSON.stringify(spec.rl.contrastive)}, view magnitude ${magnitude}, ${spec.model.negatives} negatives per sequence for the sampled losses. ${prov.machine}, commit ${prov.commit}${prov.dirty ? " (dirty)" : ""}. Load average before ${loadBefore.map((x) => x.toFixed(1)).join(" ")}, after ${loadAfter.map((x) => x.toFixed(1)).join(" ")}.`,
  `Command: \`${prov.command}\``, "",
  markdownTable(rows.map((r) => ({ config: r.config, "s/epoch": r.epoch_s.toFixed(1) + (r.extrapolated ? " (extrapolated)" : ""), "ms/batch": r.ms_per_batch.toFixed(0), "× plain (same loss)": r.ratio_to_plain_same_loss?.toFixed(2) ?? "-", "CPU s": r.cpu_s.toFixed(1), "CPU × plain": r.cpu_ratio_to_plain_same_loss?.toFixed(2) ?? "-" }))),
  "", `Recipe \`${a.recipe}\`: ${recipe.epoch_s.toFixed(1)} s per epoch, ${json.contrastive_ratio?.toFixed(2) ?? "-"}× its plain epoch in wall time (${json.contrastive_cpu_ratio?.toFixed(2) ?? "-"}× in CPU time; ${json.contrastive_ratio_vs_plain_bce?.toFixed(2) ?? "-"}× plain BCE).`,
].join("\n");
writeResult(a.name!, json, md);
console.log(md);

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
