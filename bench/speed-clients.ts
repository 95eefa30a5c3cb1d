/**
 * Child process of `bench/speed.ts`'s monitor section: N websocket clients of the monitor, in
 * their own process (as browser tabs would be), so their parsing does not run on the
 * benchmarked training loop's thread. Loopback only.
 *
 *   node --import tsx bench/speed-clients.ts <ws-url> <n>
 *
 * Commands on stdin, one per line; replies on stdout, one JSON object per line:
 *   connect      open n clients and subscribe      → {"event":"connected"} once all got `hello`
 *   report       message counts per client         → {"event":"report","steps":[..],"dropped":[..]}
 *   disconnect   close all clients                 → {"event":"disconnected"}
 *   exit         close all and exit
 */
import * as readline from "node:readline";
import { WebSocket } from "ws";

const [url, nArg] = process.argv.slice(2);
if (!url || !url.startsWith("ws://127.0.0.1:")) {
  console.error("usage: speed-clients.ts ws://127.0.0.1:<port>/ws <n>");
  process.exit(2);
}
const n = Number(nArg ?? 10);

interface Client {
  ws: WebSocket;
  hello: boolean;
  steps: number;
  dropped: number;
}
let clients: Client[] = [];

const reply = (obj: object) => process.stdout.write(JSON.stringify(obj) + "\n");

function connect(): void {
  clients = Array.from({ length: n }, () => {
    const c: Client = { ws: new WebSocket(url!), hello: false, steps: 0, dropped: 0 };
    c.ws.on("open", () => c.ws.send(JSON.stringify({ type: "subscribe", protocol: 1 })));
    c.ws.on("message", (data) => {
      // Parse every message, as the page does.
      const msg = JSON.parse(String(data)) as { type: string; dropped?: number };
      if (msg.type === "hello") {
        // A new run (onRunStart) re-sends hello: counts restart.
        c.steps = 0;
        c.dropped = 0;
        if (!c.hello) {
          c.hello = true;
          if (clients.every((k) => k.hello)) reply({ event: "connected" });
        }
      } else if (msg.type === "step") {
        c.steps++;
        c.dropped = msg.dropped ?? c.dropped;
      }
    });
    c.ws.on("error", (err) => reply({ event: "error", message: String(err) }));
    return c;
  });
}

async function disconnect(): Promise<void> {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once("close", () => resolve());
          c.ws.close();
          setTimeout(() => (c.ws.terminate(), resolve()), 1000).unref();
        }),
    ),
  );
  clients = [];
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  const cmd = line.trim();
  if (cmd === "connect") connect();
  else if (cmd === "report") reply({ event: "report", steps: clients.map((c) => c.steps), dropped: clients.map((c) => c.dropped) });
  else if (cmd === "disconnect") {
    await disconnect();
    reply({ event: "disconnected" });
  } else if (cmd === "exit") {
    await disconnect();
    process.exit(0);
  }
});
rl.on("close", () => void disconnect().then(() => process.exit(0)));
