/**
 * `rl-train run`, `rl-train resume`, `rl-train export-policy`, `rl-train compare`.
 * Each handler lazy-imports the plain function that does the work (tests call those directly).
 */
import type { CommandModule } from "yargs";
import { numberOption, parseThreads, PORT_RULE, withBackendOption, withOutOption, withSeedOption, withThreadsOptions } from "./options.ts";

export const runCommand: CommandModule<object, any> = {
  command: "run",
  describe: "train the recommender while an RL agent picks augmentations per step; logs to runs/<run-id>/",
  builder: (y) =>
    withThreadsOptions(withOutOption(withBackendOption(withSeedOption(y, 1))))
      .option("env", { type: "string", default: "envs/beauty-sasrec.json", describe: "env spec JSON (data, model, ops, reward, budget)" })
      .option("agent", { type: "string", default: "policies/reinforce.json", describe: "agent spec (policies/*.json) or an exported schedule" })
      .option("episodes", numberOption("--episodes", "episodes (training runs) to play", { integer: true, min: 1, max: 1_000_000 }, 1))
      .option("budget-epochs", numberOption("--budget-epochs", "training epochs per episode (default: the spec's rl.budget.epochs)", { min: 0, exclusiveMin: true, max: 100_000 }))
      .option("checkpoint-every", numberOption("--checkpoint-every", "checkpoint every N steps, 0 = at episode ends only (default: the spec's rl.checkpointEvery)", { integer: true, min: 0, max: 1_000_000_000 }))
      .option("parallel-episodes", numberOption("--parallel-episodes", "episodes played at once from one frozen policy; the agent learns between rounds (results depend on this)", { integer: true, min: 1, max: 1024 }, 1))
      .option("workers", numberOption("--workers", "worker threads for parallel episodes, one wasm backend each (default: CPU cores; results never depend on it)", { integer: true, min: 1, max: 256 }))
      .option("queue", { type: "string", describe: "play the episodes of parallel rounds on `rl-train worker` processes through the BullMQ queue at this Redis URL (redis://HOST:PORT[/DB]); results never depend on it" })
      .option("monitor", numberOption("--monitor", "serve the live monitor on this port (e.g. 8765; 0 picks a free one)", PORT_RULE))
      .option("host", { type: "string", default: "127.0.0.1", describe: "monitor bind address; off loopback a token is required" })
      .option("token", { type: "string", describe: "monitor access token (generated and printed when binding off loopback)" }),
  handler: async (a) => {
    const { runExperiment } = await import("./experiment.ts");
    const r = await runExperiment({
      env: a.env, agent: a.agent, out: a.out, backend: a.backend, monitorHost: a.host, token: a.token,
      episodes: a.episodes, seed: a.seed, budgetEpochs: a["budget-epochs"], checkpointEvery: a["checkpoint-every"],
      parallelEpisodes: a["parallel-episodes"], workers: a.workers, monitor: a.monitor, queue: a.queue,
      evalThreads: parseThreads("--eval-threads", a["eval-threads"]),
      trainThreads: parseThreads("--train-threads", a["train-threads"]),
    });
    const { compareRuns, formatCompare } = await import("./analysis.ts");
    console.log(formatCompare(compareRuns([r.runDir])));
    console.log(`run folder: ${r.runDir}`);
  },
};

export const searchCommand: CommandModule<object, any> = {
  command: "search",
  describe: "policy search in paired branches plus its no-learning control; prints both runs' metrics and the learned schedule, and exports it",
  builder: (y) =>
    withOutOption(withBackendOption(withSeedOption(y, 1)))
      .option("env", { type: "string", default: "envs/beauty-views-ndcg.json", describe: "env spec JSON" })
      .option("agent", { type: "string", default: "policies/reinforce-stage.json", describe: "the learning agent" })
      .option("control", { type: "string", default: "policies/trivial.json", describe: "the control: the same branches with a policy that does not learn" })
      .option("branches", numberOption("--branches", "paired branches per stage (one per core is fastest)", { integer: true, min: 2, max: 64 }, 2))
      .option("stage-steps", numberOption("--stage-steps", "env steps per stage", { integer: true, min: 1, max: 1_000_000 }, 1))
      .option("budget-epochs", numberOption("--budget-epochs", "training epochs of each run", { min: 0, exclusiveMin: true, max: 100_000 }, 2))
      .option("phases", numberOption("--phases", "training phases of the exported schedule", { integer: true, min: 1, max: 1000 }, 4))
      .option("monitor", numberOption("--monitor", "serve the live monitor of the search run on this port", PORT_RULE)),
  handler: async (a) => {
    const { runSearch } = await import("./search.ts");
    await runSearch({
      env: a.env, agent: a.agent, control: a.control, branches: a.branches, stageSteps: a["stage-steps"], budgetEpochs: a["budget-epochs"],
      phases: a.phases, seed: a.seed, out: a.out, backend: a.backend, ...(a.monitor !== undefined ? { monitor: a.monitor } : {}),
    });
  },
};

export const resumeCommand: CommandModule<object, any> = {
  command: "resume <run>",
  describe: "continue a killed run from its last checkpoint",
  builder: (y) =>
    y.positional("run", { type: "string", describe: "run folder, e.g. runs/<run-id>" })
      .option("queue", { type: "string", describe: "play parallel rounds on queue workers (Redis URL); jobs that finished before are not run again" }),
  handler: async (a) => {
    const { resumeExperiment } = await import("./experiment.ts");
    const r = await resumeExperiment(a.run, a.queue === undefined ? {} : { queue: a.queue });
    console.log(`run folder: ${r.runDir}`);
  },
};

export const exportPolicyCommand: CommandModule<object, any> = {
  command: "export-policy <run>",
  describe: "write the learned schedule (op and magnitude distribution per training phase) as an agent spec",
  builder: (y) =>
    y.positional("run", { type: "string", describe: "run folder" })
      .option("out", { type: "string", demandOption: "pass --out policies/learned-<name>.json", describe: "output agent spec" })
      .option("phases", numberOption("--phases", "training phases", { integer: true, min: 1, max: 1000 }, 4))
      .option("episodes", {
        type: "string", default: "last", describe: "episodes to learn the schedule from: last, all, or N (the last N)",
        // exportPolicy checks the value (one check for the CLI and the API).
        coerce: (v: string) => (v === "last" || v === "all" ? v : Number(v)),
      }),
  handler: async (a) => {
    const { exportPolicy } = await import("./analysis.ts");
    const r = exportPolicy({ run: a.run, out: a.out, phases: a.phases, episodes: a.episodes });
    const from = r.from === "agent" ? "the final agent's mean schedule" : `${r.steps} steps`;
    console.log(`wrote ${r.file} from ${from}; replay it with: rl-train run --agent ${r.file}`);
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
