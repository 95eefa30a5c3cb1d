/**
 * `rl-train baseline`: train SASRec without augmentation (or with one fixed contrastive view,
 * `--view`) and report validation/test metrics at the best validation epoch.
 *
 *   rl-train baseline --env envs/beauty-sasrec.json [--epochs N] [--seed S]
 *                     [--backend auto|gpu|node|wasm|cpu] [--out runs/] [--patience P]
 *                     [--eval-threads auto|N] [--train-threads auto|N] [--eval-every N] [--save-model]
 *                     [--view dropout-view|supervised-positive|crop|…[:magnitude]]
 *
 * nx shape: the builder composes the shared option helpers (src/cli/options.ts), the handler
 * lazy-imports `runBaseline` (src/cli/baseline-run.ts) so `rl-train --help` does not load tfjs.
 */
import type { CommandModule } from "yargs";
import { numberOption, parseThreads, withRunOptions, withThreadsOptions } from "./options.ts";

/** `rl-train baseline`. */
export const baselineCommand: CommandModule<object, any> = {
  command: "baseline",
  describe: "train SASRec without augmentation; print validation/test metrics (full ranking) and write runs/<run-id>/",
  builder: (y) =>
    withThreadsOptions(withRunOptions(y))
      .option("epochs", numberOption("--epochs", "most training epochs (default: the spec's training.epochs)", { integer: true, min: 1, max: 100_000 }))
      .option("eval-every", numberOption("--eval-every", "validate every N epochs (default: the spec's training.evalEvery)", { integer: true, min: 1, max: 100_000 }))
      .option("save-model", { type: "boolean", default: false, describe: "write the best-validation model to runs/<run-id>/model.json (for an env's rl.warmStart)" })
      .option("patience", numberOption("--patience", "stop after this many validations without a new best (default: the spec's training.patience)", { integer: true, min: 1, max: 100_000 }))
      .option("view", { type: "string", describe: "also train InfoNCE between the views this op makes on every batch (op[:magnitude], magnitude default 0.2), with the spec's rl.contrastive" }),
  handler: async (argv) => {
    const { runBaseline } = await import("./baseline-run.ts");
    await runBaseline({
      env: argv.env,
      seed: argv.seed,
      backend: argv.backend,
      out: argv.out,
      epochs: argv.epochs,
      patience: argv.patience,
      evalThreads: parseThreads("--eval-threads", argv["eval-threads"]),
      trainThreads: parseThreads("--train-threads", argv["train-threads"]),
      evalEvery: argv["eval-every"],
      saveModel: argv["save-model"],
      view: argv.view,
    });
  },
};
