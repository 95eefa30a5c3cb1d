/**
 * Transformer-based text ops (transformers.js, local ONNX models only) and embedding utilities.
 *
 * Workflow: `precomputeTransformerCache(texts, op, {cachePath, modelDir, ...})` once, then
 * `createTransformerOp(op, {cachePath})` in training; `apply` reads the cache synchronously.
 */
export {
  type CachedTextOp,
  computeCandidates,
  createTransformerOp,
  opFromCache,
  precomputeTransformerCache,
  type TransformerOpName,
  type TransformerOpOptions,
  transformerOpInfos,
} from "./ops.ts";
export {
  type CandidateCache,
  type CandidateRow,
  cacheRows,
  readCandidateCache,
  type TextCandidates,
  writeCandidateCache,
} from "./cache.ts";
export {
  backTranslateCandidates,
  type BackTranslateOptions,
  DEFAULT_MLM_MODEL,
  DEFAULT_PIVOTS,
  embedNeighbourCandidates,
  type EmbedNeighbourOptions,
  mlmCandidates,
  type MlmOptions,
  type Pivot,
} from "./candidates.ts";
export {
  cosine,
  DEFAULT_EMBED_MODEL,
  embedTexts,
  type EmbedOptions,
  nearestNeighbours,
  nearestNeighboursWithScores,
  type Neighbours,
  searchTopK,
} from "./embed.ts";
export { assertModelPresent, loadPipeline, type ModelLocation, resolveModelDir, type TransformerTask } from "./models.ts";
