/**
 * `rl-train run`, `rl-train resume`, `rl-train export-policy`, `rl-train compare`.
 * Each handler lazy-imports the plain function that does the work (tests call those directly).
 */
import type { CommandModule } from "yargs";
import { parseThreads, withBackendOption, withOutOption, withSeedOption, withThreadsOptions } from "./options.ts";

export const runCommand: CommandModule<object, any> = {
  command: "run",
  describe: "train the recommender while an RL agent picks augmentations per step; logs to runs/<run-id>/",
  builder: (y) =>
    withThreadsOptions(withOutOption(withBackendOption(withSeedOption(y, 1))))
      .option("env", { type: "string", default: "envs/beauty-sasrec.json", describe: "env spec JSON (data, model, ops, reward, budget)" })
      .option("agent", { type: "string", default: "policies/reinforce.json", describe: "agent spec (policies/*.json) or an exported schedule" })
      .option("episodes", { type: "number", default: 1, describe: "episodes (training runs) to play" })
      .option("budget-epochs", { type: "number", describe: "training epochs per episode (default: the spec's rl.budget.epochs)" })
      .option("checkpoint-every", { type: "number", describe: "checkpoint every N steps (default: the spec's rl.checkpointEvery)" })
      .option("parallel-episodes", { type: "number", default: 1, describe: "episodes played at once from one frozen policy; the agent learns between rounds (results depend on this)" })
      .option("workers", { type: "number", describe: "worker threads for parallel episodes, one wasm backend each (default: CPU cores; results never depend on it)" })
      .option("monitor", { type: "number", describe: "serve the live monitor on this port (e.g. 8765)" })
      .option("host", { type: "string", default: "127.0.0.1", describe: "monitor bind address; off loopback a token is required" })
      .option("token", { type: "string", describe: "monitor access token (generated and printed when binding off loopback)" }),
  handler: async (a) => {
    const { runExperiment } = await import("./experiment.ts");
    const r = await runExperiment({
      env: a.env, agent: a.agent, episodes: a.episodes, seed: a.seed, out: a.out, backend: a.backend,
      budgetEpochs: a["budget-epochs"], checkpointEvery: a["checkpoint-every"], parallelEpisodes: a["parallel-episodes"], workers: a.workers, monitor: a.monitor, monitorHost: a.host, token: a.token,
      evalThreads: parseThreads("--eval-threads", a["eval-threads"]),
      trainThreads: parseThreads("--train-threads", a["train-threads"]),
    });
    const { compareRuns, formatCompare } = await import("./analysis.ts");
    console.log(formatCompare(compareRuns([r.runDir])));
    console.log(`run folder: ${r.runDir}`);
  },
};

export const resumeCommand: CommandModule<object, any> = {
  command: "resume <run>",
  describe: "continue a killed run from its last checkpoint",
  builder: (y) => y.positional("run", { type: "string", describe: "run folder, e.g. runs/<run-id>" }),
  handler: async (a) => {
    const { resumeExperiment } = await import("./experiment.ts");
    const r = await resumeExperiment(a.run);
    console.log(`run folder: ${r.runDir}`);
  },
};

export const exportPolicyCommand: CommandModule<object, any> = {
  command: "export-policy <run>",
  describe: "write the learned schedule (op and magnitude distribution per training phase) as an agent spec",
  builder: (y) =>
    y.positional("run", { type: "string", describe: "run folder" })
      .option("out", { type: "string", demandOption: "pass --out policies/learned-<name>.json", describe: "output agent spec" })
      .option("phases", { type: "number", default: 4, describe: "training phases" })
      .option("episodes", { choices: ["last", "all"], default: "last", describe: "episodes to learn the schedule from" }),
  handler: async (a) => {
    const { exportPolicy } = await import("./analysis.ts");
    const r = exportPolicy({ run: a.run, out: a.out, phases: a.phases, episodes: a.episodes });
    console.log(`wrote ${r.file} from ${r.steps} steps; replay it with: rl-train run --agent ${r.file}`);
    for (const [i, p] of r.schedule.phases.entries()) {
      console.log(`  phase ${i + 1} (until ${p.until}): ${p.ops.map((o) => `${o.op} ${(100 * o.prob).toFixed(0)}%`).join(", ")}`);
    }
  },
};

export const compareCommand: CommandModule<object, any> = {
  command: "compare <runs..>",
  describe: "print the metric table of finished runs",
  builder: (y) => y.positional("runs", { type: "string", array: true, describe: "run folders" }),
  handler: async (a) => {
    const { compareRuns, formatCompare } = await import("./analysis.ts");
    console.log(formatCompare(compareRuns(a.runs)));
  },
};
