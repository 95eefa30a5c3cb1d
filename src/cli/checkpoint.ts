/**
 * Run checkpoints (`runs/<id>/checkpoints/latest.json`): everything `rl-train resume` needs to
 * continue a killed run into the same files — the env's state (model, optimizer, streams, data
 * cursor), the agent's, the rows recorded so far and the run totals.
 *
 * A checkpoint is validated as a whole before `resume` touches any file: a damaged one must
 * never cost the rows already recorded. Writes are atomic (see core/files.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../core/files.ts";
import { parseWithArrays, stringifyWithArrays } from "../core/serialize.ts";
import { describeIssues } from "../core/validate.ts";
import type { AgentState } from "../agents/index.ts";
import { readArrowStream } from "../record/recorder.ts";
import { EPISODES_FILE, STEPS_FILE, UPDATES_FILE, type RecorderCounts } from "../record/run-recorder.ts";

export const CHECKPOINT_FILE = "checkpoints/latest.json";
/** The agent's state when the run completed (`agent.save()`), beside the checkpoint. */
export const FINAL_AGENT_FILE = "checkpoints/agent-final.json";
/** Layout version of the checkpoint file. v1: before env kinds and update logs (refused: its env state is v2). */
export const CHECKPOINT_VERSION = 2;

export interface Checkpoint {
  version: typeof CHECKPOINT_VERSION;
  /** Episode to continue (or to start, when `env` is null). */
  episode: number;
  episodeReturn: number;
  episodeStartedMs: number;
  /** Env kind and version that wrote `env`. */
  envKind: string;
  envVersion: number;
  /** The env's `getState()`; null at an episode boundary (the next episode starts from reset). */
  env: unknown;
  agent: AgentState;
  recorder: Required<RecorderCounts>;
  /** Agent updates so far (the `update` index of the next update row). */
  updates: number;
  wallOffsetMs: number;
}

const count = z.int().min(0);
const checkpointSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  episode: count,
  episodeReturn: z.number(),
  episodeStartedMs: z.number().min(0),
  envKind: z.string().min(1),
  envVersion: z.int(),
  env: z.union([z.null(), z.object({ version: z.int() }).loose()]),
  agent: z.object({ agent: z.string(), version: z.int(), obsDim: count, space: z.object({}).loose(), rng: z.unknown() }).loose(),
  recorder: z.object({ steps: count, episodes: count, updates: count }),
  updates: count,
  wallOffsetMs: z.number().min(0),
});

/** Write `cp` atomically into the run folder; a failure names the file and leaves the previous checkpoint. */
export function writeCheckpoint(runDir: string, cp: Checkpoint): void {
  const file = path.join(runDir, CHECKPOINT_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, stringifyWithArrays(cp), `free disk space, then continue with \`rl-train resume ${runDir}\` (from the previous checkpoint)`);
}

/** What `readCheckpoint` checks a checkpoint against. */
export interface CheckpointExpectations {
  envKind: string;
  envVersion: number;
  agent: string;
  episodes: number;
}

/**
 * Read and validate the run's checkpoint; null when there is none. Throws one message naming the
 * file and what is wrong when it is damaged, from another env/agent version, or claims more
 * rows than the log files hold — before anything is written.
 */
export function readCheckpoint(runDir: string, expect: CheckpointExpectations): Checkpoint | null {
  const file = path.join(runDir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) return null;
  const bad = (why: string) => new Error(`\`${file}\` ${why}; the run's logs were not touched. Start a new run, or restore a good checkpoint file`);
  let raw: unknown;
  try {
    raw = parseWithArrays(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw bad(`is not readable JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== "object") throw bad(`holds ${JSON.stringify(raw)}, not a checkpoint object`);
  const version = (raw as { version?: unknown }).version;
  if (version !== CHECKPOINT_VERSION) {
    throw bad(`has layout version ${JSON.stringify(version)}; this augrl reads version ${CHECKPOINT_VERSION} (older runs cannot be resumed by newer code)`);
  }
  const parsed = checkpointSchema.safeParse(raw);
  if (!parsed.success) throw bad(`is incomplete or damaged:\n${describeIssues(parsed.error.issues, raw).join("\n")}`);
  const cp = raw as Checkpoint;
  if (cp.envKind !== expect.envKind || cp.envVersion !== expect.envVersion) {
    throw bad(`was written by env ${cp.envKind} v${cp.envVersion}; this code runs ${expect.envKind} v${expect.envVersion}, which would train differently`);
  }
  if (cp.env && (cp.env as { version: number }).version !== expect.envVersion) {
    throw bad(`holds env state v${(cp.env as { version: number }).version}, expected v${expect.envVersion}`);
  }
  if (cp.agent.agent !== expect.agent) throw bad(`holds the state of agent \`${cp.agent.agent}\`, the run's agent is \`${expect.agent}\``);
  if (cp.episode > expect.episodes) throw bad(`is at episode ${cp.episode}, the run has only ${expect.episodes}`);
  for (const [key, name] of [["steps", STEPS_FILE], ["episodes", EPISODES_FILE], ["updates", UPDATES_FILE]] as const) {
    const want = cp.recorder[key];
    const logFile = path.join(runDir, name);
    let have = 0;
    try {
      if (fs.existsSync(logFile)) have = readArrowStream(logFile).rows.length;
    } catch (err) {
      throw bad(`goes with \`${logFile}\`, which is not readable (${(err as Error).message})`);
    }
    if (have < want) throw bad(`counts ${want} rows of ${name}, but the file holds ${have}`);
  }
  return cp;
}
