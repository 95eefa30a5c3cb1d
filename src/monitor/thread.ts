/**
 * The live monitor on its own thread.
 *
 * Training steps and evaluations are synchronous and hold the main thread for seconds (evaluation
 * even blocks in `Atomics.wait` while helper threads score), so a server on the main thread would
 * answer nothing until the run ends. `MonitorThread` runs the `MonitorServer` in a worker thread
 * with its own event loop and forwards the run's hook calls to it as messages: `postMessage` is
 * synchronous and cheap for the training thread, and the worker serves pages, websockets and
 * heartbeats whatever the training thread is doing. A failure of the monitor thread is reported
 * once and never stops the training run.
 */
import { Worker } from "node:worker_threads";
import type { RunHook, RunStartInfo, RunSummary } from "../record/hooks.ts";
import type { EpisodeRow, StepRow, UpdateRow } from "../record/schema.ts";
import type { MonitorServerOptions } from "./server.ts";

/** Messages from the training thread to the monitor thread. */
export type MonitorThreadMessage =
  | { kind: "run-start"; info: RunStartInfo }
  | { kind: "step"; row: StepRow }
  | { kind: "episode"; row: EpisodeRow }
  | { kind: "update"; rows: UpdateRow[] }
  | { kind: "end"; summary: RunSummary }
  | { kind: "close" };

type Reply =
  | { type: "ready"; url: string; port: number; host: string; token: string | null }
  | { type: "failed"; message: string }
  | { type: "closed" };

export class MonitorThread implements RunHook {
  private alive = true;

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
    readonly port: number,
    readonly host: string,
    readonly token: string | null,
    private readonly warn: (line: string) => void,
  ) {
    worker.on("error", (err) => this.died(err.message));
    worker.on("exit", (code) => {
      if (this.alive && code !== 0) this.died(`exit code ${code}`);
      this.alive = false;
    });
  }

  /**
   * Start a monitor server on a worker thread; resolves once it listens (rejects with the
   * server's own message, e.g. a port in use). `warn` receives one line if the thread dies later.
   */
  static async start(options: MonitorServerOptions, warn: (line: string) => void = (l) => console.error(l)): Promise<MonitorThread> {
    const worker = new Worker(new URL("../core/worker-bootstrap.mjs", import.meta.url), {
      workerData: { module: new URL("./monitor-worker.ts", import.meta.url).href, options },
    });
    const reply = await new Promise<Reply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the monitor thread exited (code ${code}) before it listened`)));
    });
    worker.removeAllListeners();
    if (reply.type !== "ready") {
      await worker.terminate();
      throw new Error(reply.type === "failed" ? reply.message : "the monitor thread closed before it listened");
    }
    // The training thread must be able to exit while the monitor idles.
    worker.unref();
    return new MonitorThread(worker, reply.url, reply.port, reply.host, reply.token, warn);
  }

  private died(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.warn(`[augrl] warning: the live monitor stopped (${why}); training goes on and is still recorded`);
  }

  private post(message: MonitorThreadMessage): void {
    if (this.alive) this.worker.postMessage(message);
  }

  onRunStart(info: RunStartInfo): void {
    this.post({ kind: "run-start", info });
  }

  onStep(row: StepRow): void {
    this.post({ kind: "step", row });
  }

  onEpisode(row: EpisodeRow): void {
    this.post({ kind: "episode", row });
  }

  onUpdate(rows: UpdateRow[]): void {
    this.post({ kind: "update", rows });
  }

  onRunEnd(summary: RunSummary): void {
    this.post({ kind: "end", summary });
  }

  /** Send the last events to the clients, close them and stop the thread. */
  async close(): Promise<void> {
    if (!this.alive) return;
    this.worker.ref();
    const closed = new Promise<void>((resolve) => {
      this.worker.once("message", () => resolve());
      this.worker.once("exit", () => resolve());
    });
    this.post({ kind: "close" });
    await closed;
    this.alive = false;
    await this.worker.terminate();
  }
}
