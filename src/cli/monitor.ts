/**
 * `rl-train monitor <run>`: serve the live monitor page for a stored run (replay) or a run in
 * progress (follow). The handler lazy-imports `runMonitor`, which tests call directly.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Argv, CommandModule } from "yargs";
import { numberOption, PORT_RULE } from "./options.ts";

interface MonitorArgs {
  run: string;
  port: number;
  host: string;
  token?: string;
  speed: string;
  "poll-ms": number;
}

/** Parse `--speed`: a positive multiplier or `max` (as fast as the browser reads). */
export function parseSpeed(value: string): number | null {
  if (value === "max") return null;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new Error(`\`--speed\` must be a positive number or "max", got ${JSON.stringify(value)}; e.g. --speed 60`);
  }
  return n;
}

/** Accept `runs/<id>` or a bare `<id>` that exists under runs/. */
export function resolveRunDir(run: string): string {
  if (fs.existsSync(run)) return run;
  const underRuns = path.join("runs", run);
  return fs.existsSync(underRuns) ? underRuns : run;
}

export const monitorCommand: CommandModule<object, MonitorArgs> = {
  command: "monitor <run>",
  describe: "Serve the live monitor for a run directory: replay a finished run or follow one in progress",
  builder: (y: Argv) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "run directory (runs/<id>) or run id" })
      .option("port", numberOption("--port", "port for the page and the websocket (0 = any free port)", PORT_RULE, 8765))
      .option("host", { type: "string", default: "127.0.0.1", describe: "bind address; anything but loopback requires a token" })
      .option("token", { type: "string", describe: "access token (generated and printed when binding off loopback)" })
      .option("speed", { type: "string", default: "10", describe: 'replay speed × recorded time, or "max"' })
      .option("poll-ms", numberOption("--poll-ms", "poll period when following a run in progress", { integer: true, min: 10, max: 3_600_000 }, 500)) as unknown as Argv<MonitorArgs>,
  handler: async (args) => {
    const { runMonitor } = await import("../monitor/run-monitor.ts");
    const monitor = await runMonitor({
      runDir: resolveRunDir(args.run),
      port: args.port,
      host: args.host,
      token: args.token,
      speed: parseSpeed(args.speed),
      pollMs: args["poll-ms"],
    });
    console.log(`monitor (${monitor.mode}) for ${args.run}: ${monitor.server.url}`);
    if (monitor.server.token && !args.token) console.log(`token: ${monitor.server.token}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await monitor.stop();
  },
};
