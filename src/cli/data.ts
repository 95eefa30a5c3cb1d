/**
 * `rl-train data <command>`: inspect datasets. Subcommands: `stats <path>`.
 *
 * nx shape: the builder declares options, the handler lazy-imports the plain function that does
 * the work (`runDataStats` in src/data/stats.ts), which tests call without yargs.
 */
import type { Argv, CommandModule } from "yargs";
import { numberOption } from "./options.ts";

/** Options shared by every command that loads a dataset (`--format`, `--titles`, ...). */
export function withDatasetOptions<T>(y: Argv<T>) {
  return y
    .option("format", { choices: ["s3rec", "csv", "arrow"] as const, describe: "input format (default: from the file extension)" })
    .option("name", { type: "string", describe: "dataset name (default: file or directory name)" })
    .option("titles", { type: "string", describe: "item titles TSV (s3rec only; found automatically in a dataset directory)" })
    .option("attributes", { type: "string", describe: "item attributes JSON (s3rec only; found automatically in a dataset directory)" })
    .option("on-bad-row", { choices: ["error", "skip"] as const, default: "error" as const, describe: "stop at the first bad row, or skip and count bad rows" })
    .option("k-core", numberOption("--k-core", "interaction logs: drop users and items with fewer interactions, repeatedly (0 = off)", { integer: true, min: 0, max: 1_000_000 }, 0))
    .option("user-col", { type: "string", default: "user", describe: "interaction logs: user column" })
    .option("item-col", { type: "string", default: "item", describe: "interaction logs: item column" })
    .option("time-col", { type: "string", default: "timestamp", describe: "interaction logs: timestamp column (seconds or ISO-8601)" })
    .option("extra-columns", { choices: ["error", "ignore"] as const, default: "error" as const, describe: "interaction logs: what to do with other columns" });
}

const statsCommand: CommandModule<object, any> = {
  command: "stats <path>",
  describe: "print users, items, interactions, density and the sequence-length distribution",
  builder: (y) =>
    withDatasetOptions(y)
      .positional("path", { type: "string", demandOption: true, describe: "S3-Rec .txt, CSV/TSV or Arrow log, or a dataset directory" })
      .option("json", { type: "boolean", default: false, describe: "print JSON instead of text" }),
  handler: async (argv) => {
    const { runDataStats } = await import("../data/stats.ts");
    await runDataStats({
      path: argv.path,
      format: argv.format,
      name: argv.name,
      titles: argv.titles,
      attributes: argv.attributes,
      onBadRow: argv.onBadRow,
      kCore: argv.kCore,
      columns: { user: argv.userCol, item: argv.itemCol, timestamp: argv.timeCol },
      extraColumns: argv.extraColumns,
      json: argv.json,
    });
  },
};

/** `rl-train data <command>`, registered in src/cli/main.ts. */
export const dataCommand: CommandModule = {
  command: "data <command>",
  describe: "inspect datasets (stats)",
  builder: (y) => y.command(statsCommand).demandCommand(1, "name a data subcommand: stats"),
  handler: () => {},
};
