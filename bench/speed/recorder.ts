/** Section 4, `recorder`: the Arrow IPC stream recorder, step rows written and read back per second. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { ArrowStreamRecorder, readArrowStream, stepSchema, type StepRow } from "../../src/record/index.ts";
import { markdownTable } from "../report.ts";
import { mdRows, median, round } from "../speed-lib.ts";
import type { SectionOutput, SpeedContext } from "./context.ts";
import { makeRows } from "./rows.ts";

export async function benchRecorder(ctx: SpeedContext): Promise<SectionOutput> {
  const { opts, log } = ctx;
  const n = opts.recorderRows;
  const dim = opts.obsDim;
  const rows = makeRows(n, dim, "bench-recorder", new Rng(opts.seed).child("recorder"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-speed-"));
  const configs: Array<{ label: string; rowsPerBatch?: number; fsync: boolean }> = [
    { label: "default (64 rows/batch, fsync)", fsync: true },
    { label: "RunRecorder steps (16 rows/batch, fsync)", rowsPerBatch: 16, fsync: true },
    { label: "64 rows/batch, no fsync", rowsPerBatch: 64, fsync: false },
  ];
  const results: Array<Record<string, string | number>> = [];
  try {
    for (const [ci, c] of configs.entries()) {
      const file = path.join(dir, `steps-${ci}.arrows`);
      const appendUs: number[] = [];
      const t0 = performance.now();
      const rec = ArrowStreamRecorder.create<StepRow>(file, stepSchema(dim), { ...(c.rowsPerBatch ? { rowsPerBatch: c.rowsPerBatch } : {}), fsync: c.fsync });
      for (const row of rows) {
        const t = performance.now();
        rec.append(row);
        appendUs.push((performance.now() - t) * 1000);
      }
      rec.close();
      const writeS = (performance.now() - t0) / 1000;
      const bytes = fs.statSync(file).size;
      const tr = performance.now();
      const back = readArrowStream<StepRow>(file);
      const readS = (performance.now() - tr) / 1000;
      if (back.rows.length !== n || !back.complete) throw new Error(`read back ${back.rows.length} of ${n} rows (complete: ${back.complete}) from ${file}`);
      const sorted = [...appendUs].sort((x, y) => x - y);
      results.push({
        config: c.label,
        rows_per_batch: rec.rowsPerBatch,
        write_rows_per_s: Math.round(n / writeS),
        read_rows_per_s: Math.round(n / readS),
        append_us_median: round(median(appendUs), 1),
        append_us_p99: round(sorted[Math.floor(0.99 * (n - 1))]!, 1),
        flush_ms_max: round(sorted[n - 1]! / 1000, 2),
        bytes_per_row: round(bytes / n, 1),
      });
      log(`recorder: ${c.label}: write ${results.at(-1)!.write_rows_per_s} rows/s, read ${results.at(-1)!.read_rows_per_s} rows/s`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const json = {
    rows: n,
    observation_dim: dim,
    file: "os.tmpdir() (removed afterwards)",
    write: "ArrowStreamRecorder.create + append every row + close (rows built beforehand)",
    read: "readArrowStream(path): decode every batch to row objects",
    results,
  };
  const md = [`${n} step rows with ${dim}-float observations:`, "", markdownTable(mdRows(results))].join("\n");
  return { json, md };
}
