// One benchmark cell: one `rl-train run` episode; prints its result as the last stdout line.
import { runExperiment } from "../src/cli/experiment.ts";
const c = JSON.parse(process.argv[2]!) as { agent: string; seed: number; spec: string; key: string; env: string; budgetEpochs: number; out: string; evalThreads?: number | "auto" };
const t0 = performance.now();
const r = await runExperiment({ env: c.env, agent: c.spec, episodes: 1, seed: c.seed, out: c.out, runId: c.key, budgetEpochs: c.budgetEpochs, backend: "auto", evalThreads: c.evalThreads ?? 1, trainThreads: c.evalThreads ?? 1 });
const e = r.episodes[0]!;
console.log(JSON.stringify({ agent: c.agent, seed: c.seed, key: c.key, runDir: r.runDir, valid: e.valid, test: e.test, return: e.return, steps: e.steps, wall_s: (performance.now() - t0) / 1000 }));
