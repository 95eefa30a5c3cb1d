/**
 * Public API of the batch augmentation ops (sequence, label and context families).
 * Text ops: src/augment/text; transformer ops: src/augment/transformer.
 */
export type { AugmentOp, BatchOp, OpFamily, OpInfo, OpTarget, TextOp } from "./types.ts";
export { buildOpContext, defineBatchOp, type OpContext, type OpContextOptions, type ApplyFn } from "./opcontext.ts";
export { cooccurrenceNeighbours, checkNeighbourTable, itemCounts, PopularitySampler, type CooccurrenceOptions } from "./correlation.ts";
export { buildTitleVocab, tokenizeTitle, type TitleVocab, type TitleVocabOptions } from "./titles.ts";
export { sequenceOpInfos, createSequenceOps } from "./sequence.ts";
export { labelOpInfos, createLabelOps, hardNegative } from "./label.ts";
export { contextOpInfos, createContextOps, withContext, attributeMaskToken, titleMaskToken } from "./context.ts";
export {
  opInfos, batchOpInfos, batchOpNames, createBatchOps, requireOp, textOps, loadTransformerOps, listOpInfos,
  type TransformerOpModule,
} from "./registry.ts";
export { inputsOf, makeViews, SameTargetIndex, viewOpInfos, viewOpNames, type ViewContext, type ViewPair } from "./views.ts";
export { applySubPolicy, validateSubPolicy, type SubPolicy, type SubPolicyStep, type ApplyMode } from "./subpolicy.ts";
export {
  appendSamples, applyEdits, choosePositions, mergeSamples, selectSamples, targetsOf, uniformItem, validateBatch,
  type EditContext, type SampleEdit, type ValidateOptions,
} from "./batch.ts";
export { changeOf, contextChange, editDistance, labelChange, sequenceChange } from "./measure.ts";
