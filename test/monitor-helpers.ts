/** Shared helpers of the monitor tests (not a test file itself). */
import * as net from "node:net";
import { WebSocket } from "ws";
import type { ServerMessage } from "../src/monitor/protocol.ts";

/** Poll `cond` every 10 ms, at most `tries` times; throws `what` if it never holds. */
export async function waitFor(cond: () => boolean, what: string, tries = 1000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** A test websocket client that records every message and its close code. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  closeCode: number | null = null;
  closeReason = "";
  opened = false;
  httpStatus: number | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("open", () => (this.opened = true));
    this.ws.on("message", (data) => this.messages.push(JSON.parse(String(data))));
    this.ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
    });
    this.ws.on("unexpected-response", (_req, res) => {
      this.httpStatus = res.statusCode ?? null;
      this.closeCode = -1;
      res.resume();
    });
    this.ws.on("error", () => undefined);
  }

  async open(): Promise<this> {
    await waitFor(() => this.opened || this.closeCode !== null, "websocket open");
    return this;
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  subscribe(from?: number): void {
    this.send({ type: "subscribe", protocol: 1, ...(from === undefined ? {} : { from }) });
  }

  of<T extends ServerMessage["type"]>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<ServerMessage, { type: T }>[];
  }

  async closed(): Promise<number> {
    await waitFor(() => this.closeCode !== null, "websocket close");
    return this.closeCode!;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** ws:// URL of a monitor's websocket, with its token. */
export function wsUrl(port: number, token?: string | null): string {
  return `ws://127.0.0.1:${port}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

/** Debian's Chromium, driven by playwright-core (never a downloaded browser build). */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for headless Chromium as root on an offline machine (background networking off). */
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** Launch headless Debian Chromium and open `url` in a 1280×1100 page that records page errors. */
export async function openMonitorPage(url: string) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  // The page publishes what it has drawn on window.__augrlMonitor (counts per chart, status).
  const state = () => page.evaluate(() => (window as unknown as { __augrlMonitor: any }).__augrlMonitor);
  return { browser, page, errors, state };
}

/**
 * Send one raw HTTP/1.1 request with `target` as the request target (bytes as given, no
 * normalisation, unlike fetch) and return the response status, or null when the server closed
 * the connection without answering.
 */
export function rawRequest(port: number, target: string, upgrade: boolean): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    const done = () => {
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : null);
    };
    socket.setTimeout(2000, done);
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      if (data.includes("\r\n")) done();
    });
    socket.on("error", done);
    socket.on("close", done);
    const headers = upgrade
      ? "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      : "Connection: close\r\n";
    socket.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`, "utf8"));
  });
}

/** A TCP port that was free a moment ago on loopback (for a server started by a child process). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
