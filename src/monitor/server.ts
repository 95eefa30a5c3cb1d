/**
 * The live monitor: one HTTP port serving the page (`/`) and the websocket (`/ws`).
 *
 * `MonitorServer` is a `RunHook`: the training loop (after the recorder) hands it every step
 * and episode row. `publish` only appends to the shared event log and schedules a send pass;
 * it never touches a socket, so a slow or stuck client cannot slow training. Each connection
 * reads the log through its own cursor with a bounded lag (`maxQueue`); a connection that
 * falls further behind skips step events (episodes and the end are always delivered) and the
 * skipped count travels in its `dropped` field.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import type { RunHook, RunStartInfo, RunSummary } from "../record/hooks.ts";
import type { EpisodeRow, StepRow, UpdateRow } from "../record/schema.ts";
import { EventLog, renderEntry } from "./event-log.ts";
import {
  clientMessageSchema,
  CloseCode,
  type ControlMessage,
  type HelloMessage,
  type MonitorMode,
  type PlaybackState,
  PROTOCOL_VERSION,
  type ServerMessage,
} from "./protocol.ts";

/** Options of `MonitorServer.start`. */
export interface MonitorServerOptions {
  /** TCP port; 0 picks a free one. Default 8765. */
  port?: number;
  /** Bind address. Default `127.0.0.1`. Any non-loopback address requires a token. */
  host?: string;
  /**
   * Access token checked on the page request and the websocket upgrade (`?token=`). Default:
   * none on loopback; generated (and exposed as `token`/`url`) when binding elsewhere.
   */
  token?: string;
  /** `live` (hook-fed), `replay` (a finished run) or `follow` (a growing run). Default `live`. */
  mode?: MonitorMode;
  /** Default replay speed for new connections: recorded-time multiplier, null = as fast as possible. Default null. */
  speed?: number | null;
  /** Max events a congested connection may lag behind; beyond it its step events are skipped (counted in `dropped`). Default 512. */
  maxQueue?: number;
  /** Stop sending to a connection while its unsent socket buffer exceeds this. Default 1 MiB. */
  highWaterBytes?: number;
  /** Largest accepted client frame in bytes; larger closes with 1009. Default 16 KiB. */
  maxPayload?: number;
  /** Heartbeat period in ms. Default 2000. */
  heartbeatMs?: number;
  /** Send-pass period in ms (replay pacing and draining after backpressure). Default 50. */
  tickMs?: number;
  /** Path of the page (a self-contained HTML file). Default: the committed build, static/monitor.html. */
  pagePath?: string;
}

const DEFAULT_PAGE = new URL("./static/monitor.html", import.meta.url);

/**
 * The path and query of a request target, or null when it cannot be parsed. Any client can send
 * any bytes as the target (e.g. `//[`, which `new URL` rejects), and an exception here would
 * escape the request handler and end the process hosting the server.
 */
export function parseRequestTarget(target: string | undefined): URL | null {
  try {
    return new URL(target ?? "/", "http://monitor.invalid");
  } catch {
    return null;
  }
}

/** Is `host` a loopback address (no token needed)? */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

interface Session {
  id: number;
  ws: WebSocket;
  subscribed: boolean;
  cursor: number;
  dropped: number;
  sent: number;
  paused: boolean;
  speed: number | null;
  /** Events before this index are due regardless of pacing (after a seek). */
  burstEnd: number;
  /** Pacing anchor: recorded time `anchorWall` corresponds to real time `anchorReal`. */
  anchorWall: number;
  anchorReal: number;
}

/** Per-connection statistics (tests and the CLI's status line). */
export interface SessionStats {
  id: number;
  subscribed: boolean;
  position: number;
  lag: number;
  dropped: number;
  sent: number;
  bufferedAmount: number;
}

export class MonitorServer implements RunHook {
  readonly host: string;
  readonly port: number;
  /** The token clients must present, or null when none is required. */
  readonly token: string | null;
  /** Page URL including the token. */
  readonly url: string;
  private readonly startId: string;
  /** Bumped when the event log is cleared for a new run, so clients know to start over. */
  private generation = 0;
  mode: MonitorMode;
  private run: RunStartInfo | null = null;
  private readonly log = new EventLog();
  private readonly sessions = new Set<Session>();
  private nextId = 1;
  private pumpScheduled = false;
  private published = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  private constructor(
    private readonly http: http.Server,
    private readonly wss: WebSocketServer,
    private readonly opts: Required<Omit<MonitorServerOptions, "token" | "pagePath">>,
    token: string | null,
    port: number,
  ) {
    this.host = opts.host;
    this.port = port;
    this.token = token;
    this.mode = opts.mode;
    const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host === "0.0.0.0" ? "127.0.0.1" : opts.host;
    this.url = `http://${shownHost}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ""}`;
    this.startId = `${Date.now().toString(36)}-${process.pid}`;
  }

  /** Identifies the event log a `seq` refers to (changes on server restart and on a new run). */
  get session(): string {
    return `${this.startId}.${this.generation}`;
  }

  /** Start listening; resolves once the port is bound. */
  static async start(options: MonitorServerOptions = {}): Promise<MonitorServer> {
    const opts = {
      port: options.port ?? 8765,
      host: options.host ?? "127.0.0.1",
      mode: options.mode ?? "live",
      speed: options.speed ?? null,
      maxQueue: options.maxQueue ?? 512,
      highWaterBytes: options.highWaterBytes ?? 1 << 20,
      maxPayload: options.maxPayload ?? 16 * 1024,
      heartbeatMs: options.heartbeatMs ?? 2000,
      tickMs: options.tickMs ?? 50,
    };
    if (opts.maxQueue < 1) throw new RangeError(`MonitorServer: \`maxQueue\` must be >= 1, got ${opts.maxQueue}`);
    if (opts.speed !== null && !(opts.speed > 0)) {
      throw new RangeError(`MonitorServer: \`speed\` must be > 0 or null (as fast as possible), got ${opts.speed}`);
    }
    if (options.token !== undefined && options.token.length < 8) {
      throw new RangeError(`MonitorServer: \`token\` must have at least 8 characters, got ${options.token.length}; omit it to generate one`);
    }
    // A token guards access, it is not experiment randomness: it must be unpredictable, so it
    // comes from the OS CSPRNG rather than the run's seeded Rng.
    const token = options.token ?? (isLoopback(opts.host) ? null : randomBytes(18).toString("base64url"));
    const pagePath = options.pagePath ?? DEFAULT_PAGE;
    let page: Buffer;
    try {
      page = fs.readFileSync(pagePath);
    } catch (err) {
      throw new Error(
        `MonitorServer: the page \`${String(pagePath)}\` is missing (${(err as NodeJS.ErrnoException).code}); build it with \`node --import tsx scripts/build-monitor.ts\``,
        { cause: err },
      );
    }

    const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
    const server = http.createServer();
    let monitor: MonitorServer | null = null;
    server.on("request", (req, res) => monitor?.handleRequest(req, res, page));
    server.on("upgrade", (req, socket, head) => {
      if (!monitor) return socket.destroy();
      const url = parseRequestTarget(req.url);
      if (!url) {
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (url.pathname !== "/ws") {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (!monitor.tokenOk(url)) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => monitor?.accept(ws));
    });
    server.on("clientError", (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `MonitorServer: cannot listen on ${opts.host}:${opts.port} (${err.code}); pick another \`--port\` or stop the process using it`,
            { cause: err },
          ),
        ),
      );
      server.listen(opts.port, opts.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    monitor = new MonitorServer(server, wss, opts, token, port);
    monitor.timers.push(setInterval(() => monitor!.heartbeat(), opts.heartbeatMs));
    monitor.timers.push(setInterval(() => monitor!.pumpAll(), opts.tickMs));
    return monitor;
  }

  // ---- RunHook: the training side. Never blocks, never throws on client trouble. ----

  onRunStart(info: RunStartInfo): void {
    this.run = info;
    if (this.log.end > 0 && this.mode === "live") {
      this.log.clear();
      this.generation++;
      for (const s of this.sessions) s.cursor = this.log.base;
    }
    for (const s of this.sessions) if (s.subscribed) this.send(s, this.hello(s));
  }

  onStep(row: StepRow): void {
    this.log.addStep(row);
    this.afterPublish();
  }

  onEpisode(row: EpisodeRow): void {
    this.log.addEpisode(row);
    this.afterPublish();
  }

  onUpdate(rows: UpdateRow[]): void {
    this.log.addUpdate(rows);
    this.afterPublish();
  }

  onRunEnd(summary: RunSummary): void {
    this.log.addEnd(summary);
    this.afterPublish();
  }

  /** Publish one event (same as the hook methods). Synchronous; O(1) in the number of clients. */
  publish(event: { kind: "step"; row: StepRow } | { kind: "episode"; row: EpisodeRow } | { kind: "end"; summary: RunSummary }): void {
    if (event.kind === "step") this.onStep(event.row);
    else if (event.kind === "episode") this.onEpisode(event.row);
    else this.onRunEnd(event.summary);
  }

  /** Events published so far and per-connection state. */
  stats(): { published: number; logEnd: number; clients: SessionStats[] } {
    const end = this.log.end;
    return {
      published: this.published,
      logEnd: end,
      clients: [...this.sessions].map((s) => ({
        id: s.id,
        subscribed: s.subscribed,
        position: s.cursor,
        lag: end - s.cursor,
        dropped: s.dropped,
        sent: s.sent,
        bufferedAmount: s.ws.bufferedAmount,
      })),
    };
  }

  /** Send every event due now to every connection (e.g. the run's end before `close`). */
  flush(): void {
    this.pumpAll();
  }

  /** Close every connection (1001 going away) and stop listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sessions) {
      s.ws.close(CloseCode.goingAway, "monitor shutting down");
      // A client that never reads cannot complete the closing handshake; do not wait for it.
      setTimeout(() => s.ws.terminate(), 200).unref();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const s of this.sessions) s.ws.terminate();
    this.sessions.clear();
  }

  // ---- HTTP ----

  private tokenOk(url: URL): boolean {
    if (this.token === null) return true;
    const given = Buffer.from(url.searchParams.get("token") ?? "");
    const want = Buffer.from(this.token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private handleRequest(req: http.IncomingMessage, res: http.ServerResponse, page: Buffer): void {
    const url = parseRequestTarget(req.url);
    if (!url) {
      res.writeHead(400, { "Content-Type": "text/plain" }).end("bad request target: the monitor serves / and /ws\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (url.pathname !== "/" && url.pathname !== "/index.html" && url.pathname !== "/healthz") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found: the monitor serves / and /ws\n");
      return;
    }
    if (!this.tokenOk(url)) {
      res
        .writeHead(401, { "Content-Type": "text/plain" })
        .end("missing or wrong token: open the URL that rl-train printed (it ends in ?token=...)\n");
      return;
    }
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: true, protocol: PROTOCOL_VERSION }));
      return;
    }
    res.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : page);
  }

  // ---- websocket ----

  private accept(ws: WebSocket): void {
    if (this.closed) return ws.terminate();
    const s: Session = {
      id: this.nextId++,
      ws,
      subscribed: false,
      cursor: 0,
      dropped: 0,
      sent: 0,
      paused: false,
      speed: this.opts.speed,
      burstEnd: 0,
      anchorWall: 0,
      anchorReal: 0,
    };
    this.sessions.add(s);
    ws.on("message", (data, isBinary) => this.onClientMessage(s, data as Buffer, isBinary));
    // ws closes oversized frames with 1009 itself and reports them here; keep the server up.
    ws.on("error", () => undefined);
    ws.on("close", () => this.sessions.delete(s));
  }

  private onClientMessage(s: Session, data: Buffer, isBinary: boolean): void {
    // Every invalid message gets an `error` frame and the connection stays open: a client
    // waiting for an answer must get one, whatever it sent. A client that sends without reading
    // the answers would make them pile up in memory: past the high-water mark it is dropped.
    if (s.ws.bufferedAmount > this.opts.highWaterBytes) {
      s.ws.close(CloseCode.policyViolation, "too many unread replies; read the server's messages");
      return;
    }
    if (isBinary) {
      this.send(s, { type: "error", code: "invalid-message", message: "binary frames are not supported; send a JSON text frame with a `type` field" });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString("utf8"));
    } catch {
      this.send(s, { type: "error", code: "invalid-message", message: "not JSON; send a JSON object with a `type` field (subscribe or control)" });
      return;
    }
    const result = clientMessageSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.join(".") || "type";
      const isSubscribe = (parsed as { type?: unknown } | null)?.type === "subscribe";
      if (isSubscribe && where === "protocol") {
        this.send(s, { type: "error", code: "protocol-version", message: `\`subscribe\` needs \`protocol\`: ${PROTOCOL_VERSION} (the protocol this server speaks); got ${JSON.stringify((parsed as { protocol?: unknown }).protocol)}` });
        return;
      }
      this.send(s, { type: "error", code: "invalid-message", message: `invalid message at \`${where}\`: ${issue?.message ?? "?"}; see docs/monitor-protocol.md` });
      return;
    }
    const msg = result.data;
    if (msg.type === "subscribe") {
      if (msg.protocol !== PROTOCOL_VERSION) {
        this.send(s, { type: "error", code: "protocol-version", message: `server speaks protocol ${PROTOCOL_VERSION}, got ${msg.protocol}; reload the page` });
        return;
      }
      if (msg.run_id !== undefined && this.run && msg.run_id !== this.run.run_id) {
        this.send(s, { type: "error", code: "unknown-run", message: `this server streams run \`${this.run.run_id}\`, not \`${msg.run_id}\`` });
        return;
      }
      s.subscribed = true;
      const from = msg.session === undefined || msg.session === this.session ? (msg.from ?? 0) : 0;
      s.cursor = Math.min(Math.max(from, this.log.base), this.log.end);
      this.anchor(s);
      this.send(s, this.hello(s));
      this.pump(s);
      return;
    }
    if (!s.subscribed) {
      this.send(s, { type: "error", code: "not-subscribed", message: "send {type:\"subscribe\"} before control messages" });
      return;
    }
    this.control(s, msg);
  }

  private control(s: Session, msg: ControlMessage): void {
    switch (msg.action) {
      case "pause":
        s.paused = true;
        break;
      case "resume":
        s.paused = false;
        this.anchor(s);
        break;
      case "speed":
        s.speed = msg.speed ?? null;
        this.anchor(s);
        break;
      case "seek": {
        const target = Math.min(Math.max(msg.position ?? 0, this.log.base), this.log.end);
        // Re-send everything before the target at once so the page can redraw the state at
        // that point; pacing resumes from there.
        s.cursor = this.log.base;
        s.burstEnd = target;
        this.send(s, { type: "reset", playback: this.playback(s) });
        this.anchor(s, target);
        break;
      }
    }
    this.send(s, { type: "state", playback: this.playback(s) });
    this.pump(s);
  }

  private hello(s: Session): HelloMessage {
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      session: this.session,
      mode: this.mode,
      run_id: this.run?.run_id ?? "",
      run: this.run,
      playback: this.playback(s),
    };
  }

  private playback(s: Session): PlaybackState {
    return { paused: s.paused, speed: s.speed, position: s.cursor, total: this.log.end };
  }

  /** Pin recorded time at event `at` to now, so pacing continues from there. */
  private anchor(s: Session, at = s.cursor): void {
    const e = this.log.at(Math.min(at, this.log.end - 1));
    s.anchorWall = e ? e.wall : 0;
    s.anchorReal = performance.now();
  }

  private send(s: Session, msg: ServerMessage): void {
    if (s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(msg));
  }

  private heartbeat(): void {
    for (const s of this.sessions) {
      if (s.ws.readyState !== WebSocket.OPEN || s.ws.bufferedAmount > this.opts.highWaterBytes) continue;
      this.send(s, { type: "heartbeat", time: Date.now(), dropped: s.dropped, playback: this.playback(s) });
    }
  }

  private afterPublish(): void {
    this.published++;
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pumpAll();
    });
  }

  private pumpAll(): void {
    for (const s of this.sessions) this.pump(s);
  }

  /** Index one past the last event due for `s` now (pacing by recorded time when `speed` is set). */
  private dueEnd(s: Session): number {
    const end = this.log.end;
    if (s.speed === null) return end;
    const horizon = s.anchorWall + (performance.now() - s.anchorReal) * s.speed;
    let i = Math.max(s.cursor, s.burstEnd);
    while (i < end && this.log.at(i)!.wall <= horizon) i++;
    return i;
  }

  private pump(s: Session): void {
    if (!s.subscribed || s.paused || s.ws.readyState !== WebSocket.OPEN) return;
    if (s.cursor < this.log.base) {
      s.dropped += this.log.base - s.cursor;
      s.cursor = this.log.base;
    }
    const limit = this.dueEnd(s);
    while (s.cursor < limit && s.ws.bufferedAmount < this.opts.highWaterBytes) {
      this.sendEntry(s, s.cursor);
      s.cursor++;
    }
    if (limit - s.cursor > this.opts.maxQueue) {
      // The socket is congested (the loop above stopped early) and the connection lags more
      // than its window: coalesce by skipping step events. Episodes and the end are never
      // skipped (they are few, and the table and status depend on them). A client that keeps
      // up gets the whole history, however long.
      const skipTo = limit - this.opts.maxQueue;
      for (let i = s.cursor; i < skipTo; i++) {
        const e = this.log.at(i)!;
        if (e.kind === "step") s.dropped++;
        else this.sendEntry(s, i);
      }
      s.cursor = skipTo;
    }
  }

  private sendEntry(s: Session, index: number): void {
    s.ws.send(renderEntry(this.log.at(index)!, s.dropped));
    s.sent++;
  }
}
