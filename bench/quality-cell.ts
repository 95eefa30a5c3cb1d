// One benchmark cell: one `rl-train run` episode; prints its result (with the process's CPU seconds) as the last stdout line.
import { runCell, type CellSpec } from "../src/cli/cell.ts";
const c = JSON.parse(process.argv[2]!) as Omit<CellSpec, "agentSpec"> & { spec: string; env: string };
const t0 = performance.now();
try {
  const r = await runCell({ ...c, agentSpec: c.spec });
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ ...r, wall_s: (performance.now() - t0) / 1000, cpu_s: (cpu.user + cpu.system) / 1e6 }));
} catch (err) {
  // The message alone: a stack through the wasm backend prints its whole minified source line.
  console.error(`cell ${c.key}: ${(err as Error).message}`);
  process.exit(1);
}
