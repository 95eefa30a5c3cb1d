/**
 * Intent pilot: for each intent spec, one IntentEnv episode per seed without augmentation
 * (`none`: identity every step) and with one fixed op (`fixed`, e.g. wordnet-synonym 0.2 every
 * step); validation and test metrics at the end of the budget, seconds per episode; optionally
 * per classifier head (`--archs bag,cnn`, the measurement behind the model choice) and test
 * metrics under each out-of-scope rule on the same trained model (`--oos-rules`, diagnostic
 * only: the shipped rule is fixed in the spec, never chosen on test). Also times every text op
 * per 1,000 real utterances.
 *
 *   npm run bench:intent -- [--specs envs/hint3-sofmattress.json,…] [--seeds 1,2,3] [--fixed wordnet-synonym:0.2]
 *     [--archs bag,cnn] [--oos-rules none,quantile,pseudo,pseudo-quantile] [--epochs E] [--no-op-timing] [--name intent-pilot]
 *
 * Writes bench/results/<name>.json and .md with machine, commit and command.
 */
import * as os from "node:os";
import { parseArgs } from "node:util";
import { mean, sampleStandardDeviation } from "simple-statistics";
import { createIntentEnv, loadIntentEnvSpec, type ResolvedIntentEnvSpec } from "../src/env/index.ts";
import { type OosRule, usesPseudoOos } from "../src/env/intent-spec.ts";
import { selectBackend } from "../src/tf/backend.ts";
import { markdownTable, provenance, writeResult } from "./report.ts";
import { textOpCosts, utterancePool, type TextOpCost } from "./speed/intent.ts";

const { values: a } = parseArgs({
  options: {
    specs: { type: "string", default: "envs/hint3-sofmattress.json,envs/hint3-curekart.json,envs/banking77-10shot.json" },
    seeds: { type: "string", default: "1,2,3" },
    fixed: { type: "string", default: "wordnet-synonym:0.2" },
    archs: { type: "string" },
    "oos-rules": { type: "string" },
    epochs: { type: "string" },
    "no-op-timing": { type: "boolean", default: false },
    "op-magnitude": { type: "string", default: "0.3" },
    name: { type: "string", default: "intent-pilot" },
  },
});

const backend = await selectBackend("wasm", null);
const seeds = a.seeds.split(",").map(Number);
const [fixedOp, fixedMag] = a.fixed.split(":") as [string, string];
const rules = a["oos-rules"]?.split(",") as OosRule[] | undefined;
const HEADLINE = ["accuracy", "inscope_accuracy", "oos_recall", "macro_f1"];

interface Cell {
  spec: string; arch: string; arm: string; seed: number; seconds: number; steps: number;
  valid: Record<string, number>; test: Record<string, number>;
  /** Validation accuracy of the argmax (no rejection): what the head choice is measured on. */
  validArgmax: number;
  testByRule?: Record<string, Record<string, number>>;
}
const cells: Cell[] = [];
const describe: Record<string, string> = {};

for (const file of a.specs.split(",")) {
  const base = loadIntentEnvSpec(file);
  for (const arch of a.archs ? a.archs.split(",") : [base.model.arch]) {
    const spec: ResolvedIntentEnvSpec = { ...base, model: { ...base.model, arch: arch as "bag" | "cnn" } };
    if (a.epochs) spec.rl = { ...spec.rl, budget: { epochs: Number(a.epochs) } };
    const env = await createIntentEnv(spec);
    describe[`${base.name}/${arch}`] = env.describe();
    const opIndex = env.actionSpace.ops.indexOf(fixedOp);
    if (opIndex < 0) throw new Error(`--fixed: op \`${fixedOp}\` is not in ${file}'s action space (${env.actionSpace.ops.join(", ")})`);
    for (const seed of seeds) {
      for (const [arm, action] of [["none", { ops: [0], magnitudes: [0] }], [`fixed ${a.fixed}`, { ops: [opIndex], magnitudes: [Number(fixedMag)] }]] as const) {
        const t0 = performance.now();
        env.reset({ seed });
        for (let s = 0; s < env.horizon; s++) await env.step({ ops: [...action.ops], magnitudes: [...action.magnitudes] });
        const m = env.finalMetrics();
        const seconds = (performance.now() - t0) / 1000;
        const validArgmax = env.finalMetrics("none").valid.accuracy!;
        const cell: Cell = { spec: base.name, arch, arm, seed, seconds, steps: env.horizon, valid: m.valid, test: m.test, validArgmax };
        // The pseudo rules need the spec's pseudo-out-of-scope queries; sets without out-of-scope test rows have none.
        if (rules) cell.testByRule = Object.fromEntries(rules.filter((r) => !usesPseudoOos(r) || spec.oos.pseudo).map((r) => [r, env.finalMetrics(r).test]));
        cells.push(cell);
        console.error(`${base.name} ${arch} ${arm} seed ${seed}: valid acc ${m.valid.accuracy!.toFixed(4)} (argmax ${validArgmax.toFixed(4)}) test acc ${m.test.accuracy!.toFixed(4)} ${seconds.toFixed(1)} s`);
      }
    }
    env.dispose();
  }
}

// Text-op cost per 1,000 real utterances (HINT3 train queries, then BANKING77 ones).
const opTiming: TextOpCost[] = a["no-op-timing"] ? [] : textOpCosts(utterancePool(""), Number(a["op-magnitude"]));

const stat = (xs: number[]) => {
  const ys = xs.filter(Number.isFinite);
  return ys.length ? { mean: mean(ys), sd: ys.length > 1 ? sampleStandardDeviation(ys) : 0, n: ys.length } : { mean: NaN, sd: NaN, n: 0 };
};
const fmt = (s: { mean: number; sd: number }) => (Number.isFinite(s.mean) ? `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}` : "–");
const groups = [...new Set(cells.map((c) => `${c.spec}|${c.arch}|${c.arm}`))];
const summary = groups.map((g) => {
  const [spec, arch, arm] = g.split("|") as [string, string, string];
  const cs = cells.filter((c) => c.spec === spec && c.arch === arch && c.arm === arm);
  const none = cells.filter((c) => c.spec === spec && c.arch === arch && c.arm === "none");
  const paired = (split: "valid" | "test") => stat(cs.map((c) => c[split].accuracy! - none.find((n) => n.seed === c.seed)![split].accuracy!));
  return {
    spec, arch, arm, seeds: cs.length,
    valid_accuracy: stat(cs.map((c) => c.valid.accuracy!)),
    valid_accuracy_argmax: stat(cs.map((c) => c.validArgmax)),
    test: Object.fromEntries(HEADLINE.map((k) => [k, stat(cs.map((c) => c.test[k]!))])) as Record<string, ReturnType<typeof stat>>,
    test_oos_threshold: stat(cs.map((c) => c.test.oos_threshold!)),
    valid_minus_none: paired("valid"), test_minus_none: paired("test"),
    seconds_per_episode: stat(cs.map((c) => c.seconds)),
    steps: cs[0]!.steps,
    ...(rules ? { test_by_rule: Object.fromEntries(rules.filter((r) => cs[0]!.testByRule![r]).map((r) => [r, {
      ...Object.fromEntries(["accuracy", "inscope_accuracy", "oos_recall", "oos_threshold"].map((k) => [k, stat(cs.map((c) => c.testByRule![r]![k]!))])),
      // The sd of this paired difference is the evaluation noise a comparison of two arms meets under the rule.
      accuracy_minus_none: stat(cs.map((c) => c.testByRule![r]!.accuracy! - none.find((n) => n.seed === c.seed)!.testByRule![r]!.accuracy!)),
    }])) } : {}),
  };
});

const prov = provenance();
const json = { ...prov, loadavg: os.loadavg(), backend: backend.name, seeds, fixed: a.fixed, describe, summary, cells, op_timing: opTiming };
const md = [
  `# Intent pilot: ${a.specs.split(",").length} spec(s), seeds ${seeds.join(", ")}, none vs fixed ${a.fixed}`,
  "",
  `Machine: ${prov.machine}, ${prov.memoryGiB} GiB, Node ${prov.node}, backend ${backend.name}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}.`,
  `Commit ${prov.commit}${prov.dirty ? " (dirty)" : ""}; ${prov.date}. Command: \`${prov.command}\``,
  "",
  "One episode = the spec's budget of training steps with the same action every step, then the out-of-scope threshold chosen on validation (spec's `oos.rule`) and full validation/test metrics. Validation has no out-of-scope rows, so its accuracy is in-scope accuracy with rejections counted wrong; \"valid acc (argmax)\" is without rejection (the step reward's view). Paired columns: per-seed difference to `none` (same seed = same init, batch order, dropout).",
  "",
  ...Object.entries(describe).map(([k, v]) => `- ${k}: ${v}`),
  "",
  markdownTable(summary.map((s) => ({
    spec: s.spec, arch: s.arch, arm: s.arm, seeds: s.seeds,
    "valid acc (argmax)": fmt(s.valid_accuracy_argmax), "valid acc": fmt(s.valid_accuracy), "test acc": fmt(s.test.accuracy!), "test in-scope acc": fmt(s.test.inscope_accuracy!),
    "test OOS recall": fmt(s.test.oos_recall!), "test macro-F1": fmt(s.test.macro_f1!),
    "valid acc − none": fmt(s.valid_minus_none), "test acc − none": fmt(s.test_minus_none),
    "s/episode": fmt(s.seconds_per_episode), steps: s.steps,
  }))),
  ...(rules
    ? ["", "Test metrics of the same trained models under each out-of-scope rule (diagnostic; the rule is fixed in the spec before any test number is seen). `oos_threshold`: the chosen threshold across seeds; `accuracy_minus_none`: the arm's paired test-accuracy difference to `none` under the same rule, whose sd is the evaluation noise two arms are compared through:", "",
      markdownTable(summary.filter((s) => Number.isFinite(s.test.oos_recall!.mean)).flatMap((s) => rules.filter((r) => s.test_by_rule![r]).map((r) => ({
        spec: s.spec, arch: s.arch, arm: s.arm, rule: r,
        ...Object.fromEntries(Object.entries(s.test_by_rule![r]!).map(([k, v]) => [k, fmt(v)])),
      }))))]
    : []),
  ...(opTiming.length
    ? ["", `Text-op cost on 1,000 real utterances (HINT3 train queries then BANKING77), magnitude ${a["op-magnitude"]}, median of 5 (first call: includes loading lexicons / the WordNet sense index):`, "",
      markdownTable(opTiming.map((o) => ({ op: o.op, "ms per 1,000": o.ms_per_1000.toFixed(1), "first call ms": o.first_call_ms.toFixed(1) })))]
    : []),
].join("\n");
const out = writeResult(a.name, json, md);
console.log(md);
console.error(`wrote ${out.json} and ${out.md}`);
