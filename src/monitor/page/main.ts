/**
 * The monitor page (browser code, bundled with uPlot by scripts/build-monitor.ts into
 * src/monitor/static/monitor.html).
 *
 * Speaks protocol v1 (docs/monitor-protocol.md): subscribe, then draw step/episode events as
 * they arrive. Redraws are batched to one per animation frame so a replay at high speed costs
 * one chart update per frame, not per event. `window.__augrlMonitor` exposes counters for tests.
 */
import uPlot from "uplot";
import { metricColumn } from "../../record/metric-names.ts";
import type { EpisodeRow, StepRow, UpdateRow } from "../../record/schema.ts";
import type { HelloMessage, PlaybackState, ServerMessage } from "../protocol.ts";

const PROTOCOL = 1;
// Tableau 20: the ten base colours, then their light variants, so spaces of up to 20 ops (an
// intent space with 1- and 4-copy variants of its text ops has 15) get a colour each.
const OP_COLORS = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
  "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#f1ce63", "#499894", "#86bcb6", "#d37295", "#fabfd2", "#d4a6c8",
];

interface MonitorDebug {
  status: string;
  session: string;
  runId: string;
  steps: number;
  episodes: number;
  dropped: number;
  lastSeq: number;
  resets: number;
  ended: boolean;
  charts: { reward: number; ndcg: number; loss: number; magnitude: number; heatmapCells: number; tableRows: number; learner: number };
  /** Learner statistics received (update events) and the keys seen. */
  updates: number;
  learnerKeys: string[];
  /** The env's reward metric as the page shows it. */
  metric: string;
  /** Branches seen (1 unless the run uses paired branches). */
  branches: number;
}

const debug: MonitorDebug = {
  status: "connecting",
  session: "",
  runId: "",
  steps: 0,
  episodes: 0,
  dropped: 0,
  lastSeq: -1,
  resets: 0,
  ended: false,
  charts: { reward: 0, ndcg: 0, loss: 0, magnitude: 0, heatmapCells: 0, tableRows: 0, learner: 0 },
  updates: 0,
  learnerKeys: [],
  metric: "NDCG@10",
  branches: 1,
};
(window as unknown as { __augrlMonitor: MonitorDebug }).__augrlMonitor = debug;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// ---- data -------------------------------------------------------------------------------

let opNames: string[] = [];
const x: number[] = [];
/** Reward per branch (paired-branch runs record one row per branch and step; others use branch 0). */
const rewardByBranch: (number | null)[][] = [[]];
const ndcg: (number | null)[] = [];
const loss: number[] = [];
/** Per step: index into `opNames` of each applied op, and the recorded time. */
const choices: { wall: number; ops: number[]; mags: number[] }[] = [];
let magData: (number | null)[][] = [];
/** Metric columns of the run (from hello): the step metric charted, the episode metrics tabled. */
let stepColumn = "valid_ndcg10";
let episodeMetrics = ["NDCG@10", "HR@10"];
/** Learner statistics per key: x = steps seen when the update arrived. */
const learner = new Map<string, { x: number[]; y: (number | null)[] }>();

function opIndex(name: string): number {
  let i = opNames.indexOf(name);
  if (i < 0) {
    opNames.push(name);
    i = opNames.length - 1;
    rebuildMagnitudeChart();
  }
  return i;
}

function resetData(): void {
  x.length = ndcg.length = loss.length = choices.length = 0;
  rewardByBranch.length = 1;
  rewardByBranch[0]!.length = 0;
  rebuildRewardChart();
  learner.clear();
  debug.updates = 0;
  magData = opNames.map(() => []);
  $("episodes-body").replaceChildren();
  debug.steps = debug.episodes = 0;
  debug.lastSeq = -1;
  debug.ended = false;
  scheduleDraw();
}

function addStep(row: StepRow): void {
  const i = x.length;
  x.push(i);
  const branch = row.branch ?? 0; // v1 logs have no branch column
  if (branch >= rewardByBranch.length) {
    while (rewardByBranch.length <= branch) rewardByBranch.push(x.slice(0, i).map(() => null));
    rebuildRewardChart();
  }
  rewardByBranch.forEach((series, b) => series.push(b === branch ? row.reward : null));
  debug.branches = rewardByBranch.length;
  ndcg.push((row as unknown as Record<string, number | null>)[stepColumn] ?? null);
  loss.push(row.train_loss);
  const ops = row.ops.map(opIndex);
  choices.push({ wall: row.wall_ms, ops, mags: row.magnitudes });
  for (let k = 0; k < magData.length; k++) magData[k]!.push(null);
  ops.forEach((o, j) => (magData[o]![i] = row.magnitudes[j] ?? null));
  debug.steps++;
}

function addUpdate(rows: UpdateRow[]): void {
  for (const r of rows) {
    let series = learner.get(r.key);
    if (!series) {
      series = { x: [], y: [] };
      learner.set(r.key, series);
      debug.learnerKeys.push(r.key);
      const opt = document.createElement("option");
      opt.value = opt.textContent = r.key;
      $<HTMLSelectElement>("learner-key").appendChild(opt);
    }
    series.x.push(x.length);
    series.y.push(Number.isFinite(r.value) ? r.value : null);
  }
  debug.updates++;
}

/** Episode table header for the run's episode metrics. */
function setEpisodeHeader(): void {
  const cells = ["episode", "agent", "steps", "return", `valid ${episodeMetrics[0]}`, ...episodeMetrics.slice(0, 2).map((m) => `test ${m}`), "duration (s)"];
  $("episodes-head").replaceChildren(...cells.map((c) => Object.assign(document.createElement("th"), { textContent: c })));
}

function addEpisode(row: EpisodeRow): void {
  const tr = document.createElement("tr");
  const fmt = (v: number | null | undefined, d = 4) => (v === null || v === undefined ? "—" : v.toFixed(d));
  const cell = (prefix: string, m: string) => (row as unknown as Record<string, number | null>)[`${prefix}_${metricColumn(m)}`];
  for (const cellText of [
    String(row.episode),
    row.agent,
    String(row.steps),
    fmt(row.return),
    fmt(cell("valid", episodeMetrics[0]!)),
    ...episodeMetrics.slice(0, 2).map((m) => fmt(cell("test", m))),
    fmt(row.duration_s, 1),
  ]) {
    const td = document.createElement("td");
    td.textContent = cellText;
    tr.appendChild(td);
  }
  $("episodes-body").prepend(tr);
  debug.episodes++;
  debug.charts.tableRows = $("episodes-body").children.length;
}

// ---- charts -----------------------------------------------------------------------------

function chartWidth(el: HTMLElement): number {
  return Math.max(240, el.clientWidth - 8);
}

function lineChart(el: HTMLElement, label: string, color: string, points = false): uPlot {
  const opts: uPlot.Options = {
    width: chartWidth(el),
    height: 180,
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [{ label: "step" }, { size: 60 }],
    series: [
      {},
      {
        label,
        stroke: color,
        width: 1.5,
        spanGaps: true,
        points: { show: points, size: 4, fill: color },
      },
    ],
  };
  return new uPlot(opts, [[], []], el);
}

let rewardChart: uPlot;
/** The reward chart with one series per branch seen so far. */
function rebuildRewardChart(): void {
  const el = $("chart-reward");
  rewardChart?.destroy();
  rewardChart = new uPlot(
    {
      width: chartWidth(el),
      height: 180,
      legend: { show: rewardByBranch.length > 1 },
      scales: { x: { time: false } },
      axes: [{ label: "step" }, { size: 60 }],
      series: [
        {},
        ...rewardByBranch.map((_, b) => ({
          label: rewardByBranch.length > 1 ? `branch ${b}` : "reward",
          stroke: OP_COLORS[b % OP_COLORS.length],
          width: 1.5,
          spanGaps: true,
          points: { show: true, size: 4, fill: OP_COLORS[b % OP_COLORS.length] },
        })),
      ],
    },
    [x, ...rewardByBranch] as uPlot.AlignedData,
    el,
  );
}
rebuildRewardChart();
const ndcgChart = lineChart($("chart-ndcg"), "valid NDCG@10", "#59a14f", true);
const lossChart = lineChart($("chart-loss"), "train loss", "#e15759");
const learnerChart = lineChart($("chart-learner"), "learner", "#b07aa1", true);
$<HTMLSelectElement>("learner-key").addEventListener("change", () => scheduleDraw());
let magChart: uPlot | null = null;

function rebuildMagnitudeChart(): void {
  const el = $("chart-magnitude");
  magChart?.destroy();
  while (magData.length < opNames.length) magData.push(x.map(() => null));
  magChart = new uPlot(
    {
      width: chartWidth(el),
      height: 200,
      legend: { show: false },
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [{ label: "step" }, { size: 40 }],
      series: [
        {},
        ...opNames.map((name, i) => ({
          label: name,
          stroke: OP_COLORS[i % OP_COLORS.length],
          paths: () => null,
          points: { show: true, size: 5, fill: OP_COLORS[i % OP_COLORS.length] },
        })),
      ],
    },
    [x, ...magData] as uPlot.AlignedData,
    el,
  );
  // uPlot's own legend is a tall table; a one-line swatch list fits better.
  $("magnitude-legend").replaceChildren(
    ...opNames.map((name, i) => {
      const item = document.createElement("span");
      item.className = "swatch";
      item.style.setProperty("--c", OP_COLORS[i % OP_COLORS.length]!);
      item.textContent = name;
      return item;
    }),
  );
}

/** Op × training-time heatmap: share of steps in each time bin that applied each op. */
function drawHeatmap(): void {
  const canvas = $<HTMLCanvasElement>("heatmap");
  const width = chartWidth(canvas.parentElement!);
  const rowH = 22;
  const labelW = 110;
  const height = Math.max(1, opNames.length) * rowH + 24;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = width * dpr;
  canvas.height = height * dpr;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d")!;
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  opNames.forEach((name, r) => {
    ctx.fillStyle = "#333";
    ctx.fillText(name, 4, r * rowH + rowH / 2);
  });
  let cells = 0;
  if (choices.length > 0) {
    const cols = Math.min(80, choices.length);
    const t0 = choices[0]!.wall;
    const span = Math.max(1e-9, choices[choices.length - 1]!.wall - t0);
    const counts = opNames.map(() => new Float64Array(cols));
    const totals = new Float64Array(cols);
    for (const c of choices) {
      const col = Math.min(cols - 1, Math.floor(((c.wall - t0) / span) * cols));
      totals[col]!++;
      for (const o of c.ops) counts[o]![col]!++;
    }
    const cw = (width - labelW) / cols;
    for (let r = 0; r < opNames.length; r++) {
      for (let col = 0; col < cols; col++) {
        const share = totals[col]! > 0 ? counts[r]![col]! / totals[col]! : 0;
        if (share <= 0) continue;
        ctx.fillStyle = `rgba(78, 121, 167, ${0.1 + 0.9 * share})`;
        ctx.fillRect(labelW + col * cw, r * rowH + 1, Math.ceil(cw), rowH - 2);
        cells++;
      }
    }
    ctx.fillStyle = "#555";
    ctx.fillText(`0 s`, labelW, height - 10);
    const endLabel = `${(span / 1000).toFixed(1)} s of training`;
    ctx.fillText(endLabel, width - ctx.measureText(endLabel).width - 4, height - 10);
  }
  debug.charts.heatmapCells = cells;
}

let drawPending = false;
let lastHeatmap = 0;
function scheduleDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    rewardChart.setData([x, ...rewardByBranch] as uPlot.AlignedData);
    ndcgChart.setData([x, ndcg] as uPlot.AlignedData);
    lossChart.setData([x, loss] as uPlot.AlignedData);
    const key = $<HTMLSelectElement>("learner-key").value;
    const series = learner.get(key);
    learnerChart.setData((series ? [series.x, series.y] : [[], []]) as uPlot.AlignedData);
    debug.charts.learner = series ? series.y.length : 0;
    magChart?.setData([x, ...magData] as uPlot.AlignedData);
    debug.charts.reward = rewardByBranch.reduce((n, series) => n + series.filter((v) => v !== null).length, 0);
    debug.charts.ndcg = ndcg.filter((v) => v !== null).length;
    debug.charts.loss = loss.length;
    debug.charts.magnitude = magData.reduce((s, col) => s + col.filter((v) => v !== null).length, 0);
    // The heatmap re-bins everything; a few times a second is plenty.
    const now = performance.now();
    if (now - lastHeatmap > 250 || choices.length < 500) {
      lastHeatmap = now;
      drawHeatmap();
    } else scheduleDraw();
    $("counts").textContent = `${debug.steps} steps · ${debug.episodes} episodes` + (debug.dropped ? ` · ${debug.dropped} updates dropped (slow connection)` : "");
  });
}

window.addEventListener("resize", () => {
  for (const [chart, id] of [
    [rewardChart as uPlot | null, "chart-reward"],
    [ndcgChart, "chart-ndcg"],
    [lossChart, "chart-loss"],
    [learnerChart, "chart-learner"],
    [magChart, "chart-magnitude"],
  ] as const) {
    chart?.setSize({ width: chartWidth($(id)), height: chart.height });
  }
  drawHeatmap();
});

// ---- connection -------------------------------------------------------------------------

const params = new URLSearchParams(location.search);
const token = params.get("token");
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
let ws: WebSocket | null = null;
let backoffMs = 500;
let playback: PlaybackState | null = null;
let mode = "";

function setStatus(text: string, kind: "ok" | "warn" | "bad"): void {
  debug.status = text;
  const el = $("status");
  el.textContent = text;
  el.className = `status ${kind}`;
}

function connect(): void {
  setStatus("connecting", "warn");
  const sock = new WebSocket(wsUrl);
  ws = sock;
  sock.onopen = () => {
    backoffMs = 500;
    // Resume where we were if it is the same event log; a new session is detected in `hello`.
    sock.send(JSON.stringify({ type: "subscribe", protocol: PROTOCOL, from: debug.lastSeq + 1, ...(debug.session ? { session: debug.session } : {}) }));
  };
  sock.onmessage = (ev) => handle(JSON.parse(String(ev.data)) as ServerMessage);
  sock.onclose = (ev) => {
    if (ws !== sock) return;
    const wait = backoffMs;
    backoffMs = Math.min(5000, backoffMs * 2);
    setStatus(`disconnected (${ev.code}) · reconnecting in ${(wait / 1000).toFixed(1)} s`, "bad");
    setTimeout(connect, wait);
  };
}

function onHello(msg: HelloMessage): void {
  if (debug.session && debug.session !== msg.session) {
    // A different event log (server restarted or a new run): the server ignored our `from`
    // and starts at its first event, so drop what we drew.
    debug.resets++;
    resetData();
  }
  debug.session = msg.session;
  debug.runId = msg.run_id;
  mode = msg.mode;
  if (msg.run) {
    debug.metric = msg.run.step_metrics?.[0] ?? "NDCG@10";
    stepColumn = `valid_${metricColumn(debug.metric)}`;
    episodeMetrics = msg.run.episode_metrics ?? ["NDCG@10", "HR@10"];
    $("metric-title").textContent = `Validation ${debug.metric} (reward users)`;
    setEpisodeHeader();
    for (const name of msg.run.op_names) if (!opNames.includes(name)) opNames.push(name);
    if (!magChart || magData.length !== opNames.length) rebuildMagnitudeChart();
  }
  $("run-id").textContent = msg.run_id || "(waiting for the run to start)";
  $("config").textContent = msg.run ? JSON.stringify(msg.run.config, null, 2) : "";
  setStatus(mode === "replay" ? "replay" : mode === "follow" ? "following run" : "live", "ok");
  updatePlayback(msg.playback);
}

function updatePlayback(p: PlaybackState): void {
  playback = p;
  $("pause").textContent = p.paused ? "resume" : "pause";
  const seek = $<HTMLInputElement>("seek");
  seek.max = String(Math.max(1, p.total));
  if (document.activeElement !== seek) seek.value = String(p.position);
  $("position").textContent = `${p.position} / ${p.total}`;
  const speed = $<HTMLSelectElement>("speed");
  if (document.activeElement !== speed) speed.value = p.speed === null ? "max" : String(p.speed);
}

function handle(msg: ServerMessage): void {
  switch (msg.type) {
    case "hello":
      return onHello(msg);
    case "step":
      if (msg.seq <= debug.lastSeq) return; // a re-sent event after reconnect
      debug.lastSeq = msg.seq;
      debug.dropped = msg.dropped;
      addStep(msg.row);
      if (playback) playback.position = msg.seq + 1;
      return scheduleDraw();
    case "episode":
      if (msg.seq <= debug.lastSeq) return;
      debug.lastSeq = msg.seq;
      debug.dropped = msg.dropped;
      addEpisode(msg.row);
      return scheduleDraw();
    case "update":
      if (msg.seq <= debug.lastSeq) return;
      debug.lastSeq = msg.seq;
      addUpdate(msg.rows);
      return scheduleDraw();
    case "end":
      debug.lastSeq = Math.max(debug.lastSeq, msg.seq);
      debug.ended = true;
      setStatus(`run ${msg.summary.status}`, "ok");
      return;
    case "heartbeat":
      debug.dropped = msg.dropped;
      updatePlayback(msg.playback);
      return;
    case "reset":
      debug.resets++;
      resetData();
      updatePlayback(msg.playback);
      return;
    case "state":
      updatePlayback(msg.playback);
      return;
    case "error":
      setStatus(`server: ${msg.message}`, "bad");
      return;
  }
}

function control(body: Record<string, unknown>): void {
  ws?.send(JSON.stringify({ type: "control", ...body }));
}
$("pause").addEventListener("click", () => control({ action: playback?.paused ? "resume" : "pause" }));
$<HTMLSelectElement>("speed").addEventListener("change", (ev) => {
  const v = (ev.target as HTMLSelectElement).value;
  control({ action: "speed", speed: v === "max" ? null : Number(v) });
});
$<HTMLInputElement>("seek").addEventListener("change", (ev) => {
  control({ action: "seek", position: Number((ev.target as HTMLInputElement).value) });
});

rebuildMagnitudeChart();
drawHeatmap();
connect();
