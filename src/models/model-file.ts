/**
 * A trained SASRec saved to one JSON file: weights, Adam moments and the config they belong to.
 *
 * Written by `rl-train baseline --save-model` (the best-validation state); read by env specs
 * with `rl.warmStart`, so RL episodes can start from a trained model and study augmentation
 * late in training, where it acts as a regulariser. The file does not carry the model's random
 * streams: an episode draws its own dropout masks and negatives from its seed.
 */
import * as fs from "node:fs";
import { parseWithArrays, stringifyWithArrays } from "../core/serialize.ts";
import type { SASRec, SASRecConfig, SASRecState } from "./sasrec.ts";

export const MODEL_FILE_FORMAT = "augrl-sasrec";

export interface ModelFile {
  format: typeof MODEL_FILE_FORMAT;
  version: 1;
  dataset: string;
  numItems: number;
  config: SASRecConfig;
  /** Epoch the weights come from (the best-validation epoch of the baseline run). */
  epoch: number;
  valid?: Record<string, number>;
  weights: SASRecState["weights"];
  optimizer: SASRecState["optimizer"];
}

export function saveModelFile(file: string, model: SASRec, info: { dataset: string; epoch: number; valid?: Record<string, number> }): void {
  const state = model.getState();
  const body: ModelFile = {
    format: MODEL_FILE_FORMAT, version: 1, dataset: info.dataset, numItems: model.numItems, config: model.config,
    epoch: info.epoch, ...(info.valid ? { valid: info.valid } : {}), weights: state.weights, optimizer: state.optimizer,
  };
  fs.writeFileSync(file + ".tmp", stringifyWithArrays(body));
  fs.renameSync(file + ".tmp", file);
}

/**
 * Read a model file and check it fits a model built from `config` for `numItems` items.
 * `what` names where the path came from (e.g. "envs/x.json: `rl.warmStart`") for the messages.
 */
export function loadModelFile(file: string, expect: { config: SASRecConfig; numItems: number }, what: string): ModelFile {
  if (!fs.existsSync(file)) {
    throw new Error(`${what}: no model file at ${file}. Create one with \`rl-train baseline --env <spec> --epochs N --save-model\` (it writes runs/<run-id>/model.json)`);
  }
  let m: ModelFile;
  try {
    m = parseWithArrays<ModelFile>(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (m?.format !== MODEL_FILE_FORMAT || m.version !== 1) throw new Error(`${what}: ${file} is not an augrl model file (format ${JSON.stringify(m?.format)}, version ${JSON.stringify(m?.version)})`);
  if (m.numItems !== expect.numItems) throw new Error(`${what}: ${file} was trained on ${m.numItems} items, this dataset has ${expect.numItems}`);
  for (const k of ["hiddenSize", "numBlocks", "numHeads", "innerSize", "maxLen"] as const) {
    if (m.config[k] !== expect.config[k]) throw new Error(`${what}: ${file} has model.${k} = ${m.config[k]}, the spec says ${expect.config[k]}`);
  }
  return m;
}
