// One benchmark cell: one `rl-train run` episode; prints its result as the last stdout line.
import { runCell, type CellSpec } from "../src/cli/cell.ts";
const c = JSON.parse(process.argv[2]!) as Omit<CellSpec, "agentSpec"> & { spec: string; env: string };
const t0 = performance.now();
const r = await runCell({ ...c, agentSpec: c.spec });
console.log(JSON.stringify({ ...r, wall_s: (performance.now() - t0) / 1000 }));
