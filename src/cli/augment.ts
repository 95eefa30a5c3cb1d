/**
 * `rl-train augment`: list the augmentation ops or show what one does.
 *
 *   rl-train augment --list [--json]
 *   rl-train augment --op crop --magnitude 0.3 --env envs/beauty-sasrec.json --n 5 --seed 1
 *   rl-train augment --op synonym --text "red running shoes for women" --magnitude 0.5
 *
 * nx shape: the builder declares options, the handler lazy-imports `runAugment`
 * (src/cli/augment-run.ts), which tests call without yargs and which validates the options (one
 * place for the checks and their messages).
 */
import type { CommandModule } from "yargs";
import { numberOption, SEED_RULE } from "./options.ts";

/** `rl-train augment`, registered in src/cli/main.ts. */
export const augmentCommand: CommandModule<object, any> = {
  command: "augment",
  describe: "list augmentation ops, or show an op's effect on a few users (batch ops) or a text (text ops)",
  builder: (y) =>
    y
      .option("list", { type: "boolean", default: false, describe: "list every registered op" })
      .option("json", { type: "boolean", default: false, describe: "print JSON instead of text" })
      .option("op", { type: "string", describe: "op name, e.g. crop, mask, synonym (see --list)" })
      .option("magnitude", numberOption("--magnitude", "op magnitude in [0, 1]", { min: 0, max: 1 }, 0.5))
      .option("env", { type: "string", describe: "env spec JSON whose dataset batch ops run on, e.g. envs/beauty-sasrec.json" })
      .option("n", numberOption("--n", "users shown (batch ops) or variants drawn (text ops)", { integer: true, min: 1, max: 10_000 }, 5))
      .option("seed", numberOption("--seed", "seed for the user choice and the op", SEED_RULE, 1))
      .option("text", { type: "string", describe: "input text for text ops" }),
  handler: async (argv) => {
    const { runAugment } = await import("./augment-run.ts");
    await runAugment({
      list: argv.list,
      json: argv.json,
      op: argv.op,
      magnitude: argv.magnitude,
      env: argv.env,
      n: argv.n,
      seed: argv.seed,
      text: argv.text,
    });
  },
};
