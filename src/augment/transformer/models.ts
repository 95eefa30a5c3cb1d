/**
 * Offline model loading for the transformers.js ops.
 *
 * augrl never downloads models: `env.allowRemoteModels = false` and `env.localModelPath` points at
 * a model folder holding one sub-folder per model id in the Hugging Face/transformers.js layout
 * (`<modelDir>/<model id>/config.json`, `tokenizer.json`, `onnx/*.onnx`). A missing model fails
 * before transformers.js is asked, with the folder that was searched and how to fix it.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { env, pipeline } from "@xenova/transformers";

/** Where models live and which ONNX variant to load. */
export interface ModelLocation {
  /**
   * Folder holding one sub-folder per model id.
   * Default: `$AUGRL_MODEL_DIR`, else `models` (relative to the working directory).
   */
  modelDir?: string;
  /** Load `onnx/*_quantized.onnx` (transformers.js' default) rather than the fp32 files. Default true. */
  quantized?: boolean;
}

/** The pipelines the transformer ops use. */
export type TransformerTask = "fill-mask" | "feature-extraction" | "translation";

/** ONNX files (without the `_quantized` suffix) each task needs. */
const TASK_FILES: Record<TransformerTask, string[]> = {
  "fill-mask": ["model"],
  "feature-extraction": ["model"],
  translation: ["encoder_model", "decoder_model_merged"],
};

/** The absolute model folder for `location`. */
export function resolveModelDir(location: ModelLocation = {}): string {
  return resolve(location.modelDir ?? process.env.AUGRL_MODEL_DIR ?? "models");
}

/**
 * Throw a helpful error unless `<modelDir>/<model>` has the config, tokenizer and ONNX files
 * `task` needs. `who` names the caller (op or function) in the message.
 */
export function assertModelPresent(who: string, task: TransformerTask, model: string, location: ModelLocation = {}): string {
  const dir = resolveModelDir(location);
  const folder = join(dir, model);
  const suffix = (location.quantized ?? true) ? "_quantized" : "";
  const needed = ["config.json", "tokenizer.json", ...TASK_FILES[task].map((f) => `onnx/${f}${suffix}.onnx`)];
  const missing = needed.filter((f) => !existsSync(join(folder, f)));
  if (missing.length > 0) {
    throw new Error(
      `${who}: model \`${model}\` for ${task} not found in ${folder} (missing ${missing.join(", ")}). ` +
        `Remote downloads are disabled, so copy a transformers.js ONNX export of the model into that folder ` +
        `(e.g. the Xenova/* repositories on the Hugging Face Hub), or pass \`modelDir\` (or set AUGRL_MODEL_DIR) ` +
        `to the folder that holds it and the model id relative to it.`,
    );
  }
  return folder;
}

// transformers.js keeps one global `env`; loads are serialised so each sees its own model folder.
let loadChain: Promise<unknown> = Promise.resolve();
const pipelines = new Map<string, Promise<unknown>>();

/** A loaded transformers.js pipeline: called with texts and task options. */
export interface LoadedPipeline {
  (texts: string[], options?: Record<string, unknown>): Promise<any>;
  /** The pipeline's tokenizer (fill-mask reads `mask_token` from it). */
  tokenizer: { mask_token?: string };
}

/** Load (once per task/model/folder/variant) a transformers.js pipeline from local files only. */
export function loadPipeline(who: string, task: TransformerTask, model: string, location: ModelLocation = {}): Promise<LoadedPipeline> {
  assertModelPresent(who, task, model, location);
  const dir = resolveModelDir(location);
  const quantized = location.quantized ?? true;
  const key = JSON.stringify([task, model, dir, quantized]);
  let p = pipelines.get(key);
  if (!p) {
    p = loadChain.then(() => {
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.useBrowserCache = false;
      env.localModelPath = dir.endsWith("/") ? dir : `${dir}/`;
      return pipeline(task, model, { quantized });
    });
    loadChain = p.catch(() => undefined);
    // A failed load must not stay memoised: the user may fix the folder and retry.
    p.catch(() => pipelines.delete(key));
    pipelines.set(key, p);
  }
  return p as Promise<LoadedPipeline>;
}
