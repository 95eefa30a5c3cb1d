/** Public API of `data/`: load → validate → split (leave-one-out) → batches (seeded). */
export type { SeqDataset, Catalogue, LeaveOneOutSplit, TrainBatch } from "./types.ts";
export { maskToken } from "./types.ts";
export { DataError, type BadRowPolicy, type BadRowKind, type LoadReport, type LoadedDataset } from "./errors.ts";
export { loadSequences, parseSequences, type SequenceLoadOptions } from "./sequences.ts";
export { loadCatalogue, type CatalogueSources, type CatalogueLoadOptions, type LoadedCatalogue } from "./catalogue.ts";
export { loadInteractions, type InteractionLoadOptions, type InteractionColumns } from "./interactions.ts";
export { loadDataset, formatOf, DATA_FORMATS, type DataFormat, type DatasetSpec, type LoadedSpec } from "./load.ts";
export { leaveOneOut, keepUsers, MIN_SPLIT_LENGTH } from "./split.ts";
export { trainBatches, eligibleUsers, selectSamples, type TrainBatchOptions } from "./batches.ts";
export { datasetStats, formatStats, runDataStats, type DatasetStats, type DataStatsOptions, type DataStatsResult } from "./stats.ts";
