/** Public API of the run logs (Arrow IPC stream files) and the training hooks. */
export {
  type StepRow,
  type EpisodeRow,
  type UpdateRow,
  type StepRowInput,
  type EpisodeRowInput,
  stepSchema,
  episodeSchema,
  updateSchema,
  metricColumn,
  metricCells,
  schemaMetrics,
  DEFAULT_STEP_METRICS,
  DEFAULT_EPISODE_METRICS,
  UPDATE_SCHEMA_ID,
  makeStepRow,
  makeEpisodeRow,
  STEP_SCHEMA_ID,
  EPISODE_SCHEMA_ID,
} from "./schema.ts";
export {
  ArrowStreamRecorder,
  readArrowStream,
  nodeFileSink,
  RecordWriteError,
  type ArrowStreamContents,
  type FileSink,
  type RecorderOptions,
  type OpenOptions,
} from "./recorder.ts";
export { ArrowStreamTail } from "./tail.ts";
export { type RunHook, type RunStartInfo, type RunSummary, HookList } from "./hooks.ts";
export { RunRecorder, type RunRecorderOptions, type RecorderCounts, STEPS_FILE, EPISODES_FILE, UPDATES_FILE, CONFIG_FILE, SUMMARY_FILE } from "./run-recorder.ts";
export type { Row } from "./codec.ts";
export { syntheticRun, playSynthetic, type SyntheticRun, type SyntheticRunOptions } from "./synthetic.ts";
