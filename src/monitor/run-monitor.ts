/**
 * `rl-train monitor runs/<id>`: serve a stored run. A finished run (summary.json present) is
 * replayed from its Arrow files at `speed` × recorded time; a run still in progress is
 * followed by polling its growing files. The CLI wrapper is src/cli/monitor.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunStartInfo, RunSummary } from "../record/hooks.ts";
import { readArrowStream } from "../record/recorder.ts";
import { CONFIG_FILE, EPISODES_FILE, STEPS_FILE, SUMMARY_FILE, UPDATES_FILE } from "../record/run-recorder.ts";
import type { EpisodeRow, StepRow, UpdateRow } from "../record/schema.ts";
import { ArrowStreamTail } from "../record/tail.ts";
import { MonitorServer } from "./server.ts";

/** Options of `runMonitor`. */
export interface RunMonitorOptions {
  /** Run directory (`runs/<id>`) holding config.json, steps.arrows, episodes.arrows. */
  runDir: string;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; other addresses need a token (generated when not given). */
  host?: string;
  token?: string;
  /** Replay speed (× recorded time) for a finished run; null = as fast as possible. Default 10. */
  speed?: number | null;
  /** Poll period of a run in progress, ms. Default 500. */
  pollMs?: number;
  /** Receives warnings (a torn log tail, an unreadable summary). Default: stderr. */
  warn?: (line: string) => void;
}

/** A running monitor. */
export interface RunningMonitor {
  server: MonitorServer;
  mode: "replay" | "follow";
  /** Resolves when a followed run has ended (immediately for a replay: all events are loaded). */
  loaded: Promise<void>;
  stop(): Promise<void>;
}

/** Read config.json as `RunStartInfo`, adapting a plain config object. */
export function readRunInfo(runDir: string): RunStartInfo {
  const file = path.join(runDir, CONFIG_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(
      `runMonitor: cannot read \`${file}\` (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass a run directory written by \`rl-train run\` (runs/<id>)`,
      { cause: err },
    );
  }
  if (typeof raw.run_id === "string" && Array.isArray(raw.op_names)) return raw as unknown as RunStartInfo;
  return {
    run_id: typeof raw.run_id === "string" ? raw.run_id : path.basename(path.resolve(runDir)),
    observation_dim: typeof raw.observation_dim === "number" ? raw.observation_dim : 0,
    op_names: [],
    config: raw,
    started_at: typeof raw.started_at === "string" ? raw.started_at : "",
  };
}

/** summary.json, or null when absent or unreadable (a write cut short: the run is then followed, not replayed). */
function readSummary(runDir: string, warn?: (line: string) => void): RunSummary | null {
  const file = path.join(runDir, SUMMARY_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as RunSummary;
  } catch (err) {
    warn?.(`[augrl] warning: \`${file}\` is unreadable (${(err as Error).message}); treating the run as unfinished`);
    return null;
  }
}

/** Rows of a log file, warning when a torn tail (a crash mid-write) was dropped. */
function readRows<R>(file: string, warn: (line: string) => void): R[] {
  if (!fs.existsSync(file)) return [];
  const { rows, ignoredBytes } = readArrowStream<R>(file);
  if (ignoredBytes > 0) warn(`[augrl] warning: \`${file}\` ends in ${ignoredBytes} bytes of a record batch cut off mid-write; serving its ${rows.length} whole rows`);
  return rows;
}

/** Start serving `runDir`. */
export async function runMonitor(options: RunMonitorOptions): Promise<RunningMonitor> {
  const { runDir } = options;
  if (!fs.existsSync(runDir)) {
    throw new Error(`runMonitor: run directory \`${runDir}\` does not exist; pass runs/<id> of a run started with \`rl-train run\``);
  }
  const warn = options.warn ?? ((l: string) => console.error(l));
  const info = readRunInfo(runDir);
  const summary = readSummary(runDir, warn);
  const mode = summary ? "replay" : "follow";
  const server = await MonitorServer.start({
    port: options.port,
    host: options.host,
    token: options.token,
    mode,
    speed: mode === "replay" ? (options.speed === undefined ? 10 : options.speed) : null,
  });
  server.onRunStart(info);
  const stepsPath = path.join(runDir, STEPS_FILE);
  const episodesPath = path.join(runDir, EPISODES_FILE);
  const updatesPath = path.join(runDir, UPDATES_FILE);

  if (summary) {
    const steps = readRows<StepRow>(stepsPath, warn);
    const episodes = readRows<EpisodeRow>(episodesPath, warn);
    publishInOrder(server, steps, episodes, groupUpdates(readRows<UpdateRow>(updatesPath, warn)));
    server.onRunEnd(summary);
    return { server, mode, loaded: Promise.resolve(), stop: () => server.close() };
  }

  const stepTail = new ArrowStreamTail<StepRow>(stepsPath);
  const episodeTail = new ArrowStreamTail<EpisodeRow>(episodesPath);
  const updateTail = new ArrowStreamTail<UpdateRow>(updatesPath);
  let timer: NodeJS.Timeout | null = null;
  let finish: () => void = () => undefined;
  const loaded = new Promise<void>((resolve) => (finish = resolve));
  const poll = () => {
    // Steps first: the recorder flushes an episode's steps before writing its episode row.
    for (const row of stepTail.poll()) server.onStep(row);
    for (const rows of groupUpdates(updateTail.poll())) server.onUpdate(rows);
    for (const row of episodeTail.poll()) server.onEpisode(row);
    const done = readSummary(runDir);
    if (done && stepTail.complete && episodeTail.complete) {
      server.onRunEnd(done);
      if (timer) clearInterval(timer);
      timer = null;
      finish();
    }
  };
  poll();
  if (!stepTail.complete || !episodeTail.complete) timer = setInterval(poll, options.pollMs ?? 500);
  return {
    server,
    mode,
    loaded,
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = null;
      finish();
      await server.close();
    },
  };
}

/** Update rows grouped per update (one group per `update` index, file order). */
function groupUpdates(rows: UpdateRow[]): UpdateRow[][] {
  const groups: UpdateRow[][] = [];
  for (const r of rows) {
    const last = groups.at(-1);
    if (last && last[0]!.update === r.update) last.push(r);
    else groups.push([r]);
  }
  return groups;
}

/**
 * Publish stored rows in the order the run loop emitted them: an episode's steps with each
 * update after the step it followed (`step` = steps done), then the episode row.
 */
function publishInOrder(server: MonitorServer, steps: StepRow[], episodes: EpisodeRow[], updates: UpdateRow[][] = []): void {
  let e = 0;
  let u = 0;
  const before = (g: UpdateRow[], ep: number, step: number) => g[0]!.episode < ep || (g[0]!.episode === ep && g[0]!.step <= step);
  for (const row of steps) {
    while (u < updates.length && before(updates[u]!, row.episode, row.step)) server.onUpdate(updates[u++]!);
    while (e < episodes.length && episodes[e]!.episode < row.episode) server.onEpisode(episodes[e++]!);
    server.onStep(row);
  }
  while (u < updates.length) server.onUpdate(updates[u++]!);
  while (e < episodes.length) server.onEpisode(episodes[e++]!);
}
