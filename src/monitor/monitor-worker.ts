// Worker-thread body of `MonitorThread`: a MonitorServer fed by messages from the training thread.
import { parentPort, workerData } from "node:worker_threads";
import { MonitorServer, type MonitorServerOptions } from "./server.ts";
import type { MonitorThreadMessage } from "./thread.ts";

const port = parentPort!;
let server: MonitorServer;
try {
  server = await MonitorServer.start((workerData as { options: MonitorServerOptions }).options);
} catch (err) {
  port.postMessage({ type: "failed", message: (err as Error).message });
  process.exit(0);
}
port.postMessage({ type: "ready", url: server.url, port: server.port, host: server.host, token: server.token });
port.on("message", (m: MonitorThreadMessage) => {
  switch (m.kind) {
    case "run-start":
      server.onRunStart(m.info);
      break;
    case "step":
      server.onStep(m.row);
      break;
    case "episode":
      server.onEpisode(m.row);
      break;
    case "update":
      server.onUpdate(m.rows);
      break;
    case "end":
      server.onRunEnd(m.summary);
      break;
    case "close":
      // Deliver what is due (the run's end) before saying goodbye to the clients.
      server.flush();
      void server.close().then(() => {
        port.postMessage({ type: "closed" });
        port.close();
      });
      break;
  }
});
