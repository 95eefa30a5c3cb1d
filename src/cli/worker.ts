/**
 * `rl-train worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--threads auto|N] [--lock-ms MS]`:
 * take episode and benchmark-cell jobs from the BullMQ queue until stopped (src/cli/queue/worker.ts).
 */
import type { CommandModule } from "yargs";
import { numberOption, parseThreads } from "./options.ts";

export const workerCommand: CommandModule<object, any> = {
  command: "worker",
  describe: "run jobs (episodes of parallel rounds, benchmark cells) from a BullMQ queue on Redis until stopped",
  builder: (y) =>
    y
      .option("queue", { type: "string", demandOption: "pass the queue, e.g. --queue redis://127.0.0.1:6379", describe: "Redis URL of the queue: redis://HOST:PORT[/DB], rediss:// for TLS; password in the URL or $AUGRL_REDIS_PASSWORD" })
      .option("concurrency", numberOption("--concurrency", "jobs run at once, each on its own thread (one per core is the most that pays)", { integer: true, min: 1, max: 256 }, 1))
      .option("threads", { type: "string", default: "auto", describe: "evaluation / gradient-shard threads per job (auto = cores ÷ concurrency, max 4; results never depend on it)" })
      .option("lock-ms", numberOption("--lock-ms", "ms a job stays locked without a heartbeat from its worker: a killed worker's job is taken over after about this long", { integer: true, min: 1000, max: 3_600_000 }, 30_000)),
  handler: async (a) => {
    const { runWorkerCommand } = await import("./queue/worker.ts");
    await runWorkerCommand({ queue: a.queue, concurrency: a.concurrency, threads: parseThreads("--threads", a.threads), lockMs: a["lock-ms"] });
  },
};
