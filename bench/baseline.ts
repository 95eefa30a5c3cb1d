/**
 * Reproduce the published SASRec baseline on Beauty: train without augmentation, select the
 * epoch with the best validation NDCG@10 (full ranking), report test metrics there. With `--op`,
 * every batch also trains InfoNCE between the views that op makes (`rl.contrastive` of the spec,
 * overridable below; see src/augment/views.ts): CL4SRec/CoSeRec/DuoRec-style training to the
 * best validation epoch.
 *
 *   npm run bench:baseline -- [--env envs/beauty-sasrec.json] [--epochs 200] [--patience 10]
 *                             [--eval-every 1] [--seed 42] [--backend auto] [--name sasrec-beauty]
 *                             [--eval-threads auto|N] [--train-threads auto|N] [--shards N]
 *                             [--loss bce|ce|sampled-softmax|gbce] [--negatives N] [--gbce-t T]
 *                             [--lr 0.001] [--loss-norm batch|epoch]
 *                             [--op dropout-view|supervised-positive|crop|…[:magnitude]] [--weight λ]
 *                             [--temperature τ] [--similarity cos|dot] [--mask-same-target true|false]
 *
 * Time to quality: test is measured at every new best validation epoch; the result records the
 * wall and training seconds at which that test NDCG@10 first reached 0.030.
 *
 * Writes bench/results/<name>.json and .md after every new best epoch (status "running") and at
 * the end (status "finished"), so an interrupted run still leaves an honest partial result.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../src/core/files.ts";
import { Rng, type RngState } from "../src/core/rng.ts";
import { parseWithArrays, stringifyWithArrays } from "../src/core/serialize.ts";
import { loadEnvSpec, loadSpecData } from "../src/env/spec.ts";
import { fixedViewStep } from "../src/env/fixed-views.ts";
import { SASRec } from "../src/models/sasrec.ts";
import { trainSupervised, type EpochLog, type TrainerCheckpoint } from "../src/models/trainer.ts";
import { describeProtocol } from "../src/models/metrics.ts";
import { evaluate } from "../src/models/evaluate.ts";
import { selectBackend, type BackendChoice } from "../src/tf/backend.ts";
import { createEvalPool } from "../src/models/eval-pool.ts";
import { createTrainPool } from "../src/models/train-pool.ts";
import { shardThreads } from "../src/models/helper-thread.ts";
import { parseThreads } from "../src/cli/options.ts";
import { markdownTable, provenance, writeResult } from "./report.ts";

const { values: a } = parseArgs({
  options: {
    env: { type: "string", default: "envs/beauty-sasrec.json" },
    epochs: { type: "string" },
    patience: { type: "string" },
    "eval-every": { type: "string" },
    seed: { type: "string", default: "42" },
    backend: { type: "string", default: "auto" },
    name: { type: "string", default: "sasrec-beauty" },
    loss: { type: "string" },
    negatives: { type: "string" },
    "gbce-t": { type: "string" },
    lr: { type: "string" },
    "loss-norm": { type: "string" },
    "eval-threads": { type: "string", default: "auto" },
    "train-threads": { type: "string", default: "auto" },
    /** Override model.gradientShards (1 = unsharded steps, as before the data-parallel change). */
    shards: { type: "string" },
    op: { type: "string" },
    weight: { type: "string" },
    temperature: { type: "string" },
    similarity: { type: "string" },
    "mask-same-target": { type: "string" },
  },
});
const spec = loadEnvSpec(a.env!);
const LOSSES = ["bce", "ce", "sampled-softmax", "gbce"] as const;
if (a.loss) {
  if (!(LOSSES as readonly string[]).includes(a.loss)) throw new Error(`\`--loss\` must be one of ${LOSSES.join(", ")}; got ${JSON.stringify(a.loss)}`);
  spec.model.loss = a.loss as (typeof LOSSES)[number];
}
if (a.negatives) spec.model.negatives = Number(a.negatives);
if (a["gbce-t"]) spec.model.gbceT = Number(a["gbce-t"]);
if (a.lr) spec.model.learningRate = Number(a.lr);
if (a.shards) spec.model.gradientShards = Number(a.shards);
if (a.weight) spec.rl.contrastive.weight = Number(a.weight);
if (a.temperature) spec.rl.contrastive.temperature = Number(a.temperature);
if (a.similarity) {
  if (a.similarity !== "cos" && a.similarity !== "dot") throw new Error(`\`--similarity\` must be cos or dot; got ${JSON.stringify(a.similarity)}`);
  spec.rl.contrastive.similarity = a.similarity;
}
if (a["mask-same-target"]) {
  if (!["true", "false"].includes(a["mask-same-target"])) throw new Error(`\`--mask-same-target\` must be true or false; got ${JSON.stringify(a["mask-same-target"])}`);
  spec.rl.contrastive.maskSameTarget = a["mask-same-target"] === "true";
}
const [viewOp, viewMagnitude] = a.op ? [a.op.split(":")[0]!, Number(a.op.split(":")[1] ?? 0.2)] : [undefined, undefined];
const training = {
  ...spec.training,
  ...(a.epochs ? { epochs: Number(a.epochs) } : {}),
  ...(a.patience ? { patience: Number(a.patience) } : {}),
  ...(a["eval-every"] ? { evalEvery: Number(a["eval-every"]) } : {}),
  ...(a["loss-norm"] ? { lossNormalization: a["loss-norm"] as "batch" | "epoch" } : {}),
};
const backend = await selectBackend(a.backend as BackendChoice);
const evalPool = createEvalPool(parseThreads("--eval-threads", a["eval-threads"]), backend.name, (l) => console.error(l));
const trainPool = createTrainPool(parseThreads("--train-threads", a["train-threads"]), backend.name, (l) => console.error(l));
const evalThreads = evalPool.threads;
const trainThreads = shardThreads(spec.model.gradientShards, trainPool.threads);
const { split } = loadSpecData(spec);
const seed = Number(a.seed);
const rng = new Rng(seed);
const model = new SASRec(spec.model, split.dataset.numItems, rng.child("model"), { shardRunner: trainPool });
// A long run continues from its last evaluated epoch when killed: the checkpoint holds the
// trainer's state plus this script's own (the views' stream, the logs, the wall time so far).
const checkpointFile = path.join("runs", "bench-checkpoints", `${a.name}.json`);
interface BenchCheckpoint { trainer: TrainerCheckpoint; augment: RngState; history: EpochLog[]; testAtBest: typeof testAtBest; wallS: number }
const resumed: BenchCheckpoint | undefined = fs.existsSync(checkpointFile) ? parseWithArrays<BenchCheckpoint>(fs.readFileSync(checkpointFile, "utf8")) : undefined;
const augmentRng = resumed ? Rng.restore(resumed.augment) : rng.child("augment");
const step = viewOp ? fixedViewStep(spec, split, model, viewOp, viewMagnitude!, augmentRng) : undefined;
const contrastive = viewOp ? { op: viewOp, magnitude: viewMagnitude, ...spec.rl.contrastive } : null;
const prov = provenance();
const t0 = performance.now() - (resumed?.wallS ?? 0) * 1000;
const history: EpochLog[] = resumed ? [...resumed.history] : [];
/** Test at every new best validation epoch: when the selected model first reached test NDCG@10 0.030. */
const testAtBest: { epoch: number; wall_s: number; train_s: number; "NDCG@10": number; "HR@10": number }[] = resumed ? [...resumed.testAtBest] : [];
if (resumed) console.error(`[baseline] resuming ${a.name} after epoch ${resumed.trainer.epoch} (${checkpointFile}; delete it to start over)`);
const reached = () => testAtBest.find((t) => t["NDCG@10"] >= 0.03) ?? null;

function save(status: string, extra: object) {
  const json = { dataset: split.dataset.name, status, ...extra, contrastive, time_to_test_ndcg10_0030: reached(), test_at_best: testAtBest, backend: backend.name, eval_threads: evalThreads, train_threads: trainThreads, commit: prov.commit, command: prov.command, machine: prov.machine, date: prov.date, model: spec.model, training, seed, history };
  const r = json as unknown as { test?: Record<string, number>; valid?: Record<string, number> };
  const md = [
    `# SASRec on ${split.dataset.name} (${status})`, "",
    `Loss ${spec.model.loss}${viewOp ? `, contrastive views \`${viewOp}\` (${JSON.stringify(contrastive)})` : ", no augmentation"}. Backend ${backend.name}, ${spec.model.gradientShards} gradient shard(s) on ${trainThreads} thread(s), seed ${seed}, commit ${prov.commit}, ${prov.machine}.`, `Command: \`${prov.command}\``, "",
    r.test ? markdownTable([{ split: "valid", ...r.valid }, { split: "test", ...r.test }] as Array<Record<string, number | string>>) : "(no test yet)",
    "", "Epochs: " + history.map((h) => `${h.epoch}:${h.valid?.["NDCG@10"]?.toFixed(4) ?? "-"}`).join(" "),
    "", reached() ? `Test NDCG@10 >= 0.030 first at epoch ${reached()!.epoch}: ${reached()!.wall_s.toFixed(0)} s wall, ${reached()!.train_s.toFixed(0)} s of training.` : "Test NDCG@10 has not reached 0.030 at a best validation epoch.",
  ].join("\n");
  writeResult(a.name!, json, md);
}

console.error(`[baseline] ${spec.name}: ${split.dataset.name} ${split.train.length} users, ${split.dataset.numItems} items, ${model.parameterCount} params, loss ${spec.model.loss}${viewOp ? `, views ${viewOp}:${viewMagnitude} ${JSON.stringify(spec.rl.contrastive)}` : ""}; up to ${training.epochs} epochs`);
const result = trainSupervised(model, split, rng, training, {
  onEpoch(log, best) {
    history.push(log);
    console.error(
      `[baseline] epoch ${log.epoch} loss ${log.loss.toFixed(4)} train ${log.trainSeconds.toFixed(1)}s` +
        (log.valid ? ` valid NDCG@10 ${log.valid["NDCG@10"]!.toFixed(4)} HR@10 ${log.valid["HR@10"]!.toFixed(4)} (${log.validSeconds!.toFixed(1)}s) best ${best.value.toFixed(4)}@${best.epoch}` : ""),
    );
    // At a new best, also measure test there, so an interrupted run still reports an honest result.
    if (best.epoch === log.epoch) {
      const test = evaluate(model, split, "test", { runner: evalPool }).metrics;
      console.error(`[baseline]   new best: test NDCG@10 ${test["NDCG@10"]!.toFixed(4)} HR@10 ${test["HR@10"]!.toFixed(4)}`);
      testAtBest.push({ epoch: log.epoch, wall_s: (performance.now() - t0) / 1000, train_s: history.reduce((sum, h) => sum + h.trainSeconds, 0), "NDCG@10": test["NDCG@10"]!, "HR@10": test["HR@10"]! });
      save("running", { best_epoch: best.epoch, epochs: log.epoch, valid: log.valid, test, wall_s: (performance.now() - t0) / 1000 });
    }
  },
}, {
  evalRunner: evalPool, ...(step ? { step } : {}), ...(resumed ? { resume: resumed.trainer } : {}),
  onCheckpoint(trainer) {
    fs.mkdirSync(path.dirname(checkpointFile), { recursive: true });
    writeFileAtomic(checkpointFile, stringifyWithArrays({ trainer, augment: augmentRng.state(), history, testAtBest, wallS: (performance.now() - t0) / 1000 } satisfies BenchCheckpoint));
  },
});
const pick = (m: Record<string, number>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, m[k]]));
save("finished", {
  protocol: { ...result.test.protocol, description: describeProtocol(result.test.protocol), validSelection: "best validation NDCG@10", maxLen: spec.model.maxLen },
  epochs: result.epochs.length,
  best_epoch: result.bestEpoch,
  stopped_early: result.stoppedEarly,
  valid: pick(result.valid.metrics, ["HR@10", "NDCG@10"]),
  valid_all: result.valid.metrics,
  test: pick(result.test.metrics, ["HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR"]),
  seconds_per_epoch: result.secondsPerEpoch,
  eval_seconds: result.test.seconds,
  wall_s: result.wallSeconds,
});
console.error(`[baseline] best epoch ${result.bestEpoch}: test ${JSON.stringify(result.test.metrics)}`);
fs.rmSync(checkpointFile, { force: true });
await Promise.all([evalPool.close(), trainPool.close()]);
