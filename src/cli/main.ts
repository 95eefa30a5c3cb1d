/**
 * `rl-train`: the command-line entry. Commands live in their own modules and lazy-import the
 * code that does the work, so `rl-train --help` starts fast and never loads tfjs.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { augmentCommand } from "./augment.ts";
import { baselineCommand } from "./baseline.ts";
import { dataCommand } from "./data.ts";
import { monitorCommand } from "./monitor.ts";
import { compareCommand, exportPolicyCommand, resumeCommand, runCommand, searchCommand } from "./run.ts";
import { workerCommand } from "./worker.ts";

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName("rl-train")
    .usage("$0 <command> [options]\n\nLearn data-augmentation policies for sequential recommenders with RL.")
    .command(runCommand)
    .command(searchCommand)
    .command(baselineCommand)
    .command(resumeCommand)
    .command(exportPolicyCommand)
    .command(compareCommand)
    .command(monitorCommand)
    .command(augmentCommand)
    .command(dataCommand)
    .command(workerCommand)
    .demandCommand(1, "pass a command; see rl-train --help")
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`rl-train: ${msg}\nrun rl-train --help for usage`);
      process.exit(2);
    })
    .help()
    .parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  // One clear line for expected errors (bad input, bad spec); the stack only with AUGRL_DEBUG=1.
  const e = err as Error;
  console.error(`rl-train: ${e?.message ?? String(err)}`);
  if (process.env.AUGRL_DEBUG) console.error(e?.stack);
  process.exit(1);
});
