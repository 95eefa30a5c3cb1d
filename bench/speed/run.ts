/**
 * The speed benchmark's runner: runs the chosen sections in order, each on its own (one that
 * throws records its error and the others still run), and writes <out-dir>/<name>.json and .md
 * after every section (status "running", then "finished"). Every section records the load
 * average before and after and its process CPU time, because on a 2-core machine a background
 * job inflates wall times (cpu_s well below wall_s means the process waited for a core).
 */
import * as path from "node:path";
import type { BackendInfo } from "../../src/tf/backend.ts";
import { provenance, writeResult } from "../report.ts";
import { loadSnapshot, round, type LoadSnapshot, type SectionId } from "../speed-lib.ts";
import { ROOT, SpeedContext, type SectionOutput, type SpeedOptions } from "./context.ts";
import { benchEval } from "./eval.ts";
import { benchMonitor } from "./monitor.ts";
import { benchAugOps } from "./ops.ts";
import { benchRecorder } from "./recorder.ts";
import { benchIntent } from "./intent.ts";
import { benchRlOverhead } from "./rl.ts";
import { benchTrain } from "./train.ts";

/** Every section, keyed by its `--sections` name; titles carry the numbers `--sections` also accepts. */
export const SECTIONS: Record<SectionId, { title: string; run: (ctx: SpeedContext) => Promise<SectionOutput> }> = {
  train: { title: "1. SASRec training epoch", run: benchTrain },
  eval: { title: "2. Full-ranking evaluation", run: benchEval },
  ops: { title: "3. Augmentation op time per batch", run: benchAugOps },
  recorder: { title: "4. Arrow recorder throughput", run: benchRecorder },
  monitor: { title: "5. Monitor overhead", run: benchMonitor },
  rl: { title: "6. RL overhead", run: benchRlOverhead },
  intent: { title: "7. Intent env: episode time per dataset, text-op cost", run: (ctx) => benchIntent(ctx, ROOT) },
};

interface SectionRecord {
  title: string;
  status: "ok" | "error" | "skipped";
  wall_s: number;
  /** Process CPU seconds (user + system) during the section; well below wall_s means it waited for a core. */
  cpu_s: number;
  load_before: LoadSnapshot;
  load_after: LoadSnapshot;
  error?: string;
  result?: Record<string, unknown>;
}

/** Where the result goes: `<outDir>/<name>.json` and `.md`. */
export interface SpeedOutput {
  name: string;
  outDir: string;
}

/**
 * Run `opts.sections` and write the result after each; returns the markdown (also printed to
 * stdout) and the sections that failed.
 */
export async function runSpeed(opts: SpeedOptions, output: SpeedOutput, log: (line: string) => void): Promise<{ markdown: string; failed: SectionId[] }> {
  const ctx = new SpeedContext(opts, log);
  const prov = provenance();
  const loadStart = loadSnapshot();
  const result = {
    benchmark: "speed",
    status: "running" as "running" | "finished",
    provenance: prov,
    backend: null as BackendInfo | null,
    load: {
      start: loadStart,
      end: null as LoadSnapshot | null,
      note: "os.loadavg() on a machine with `cpus` cores: above ~1 while this single-threaded benchmark runs means another job competed for the CPU and wall times are inflated",
    },
    options: { ...opts, env: path.relative(ROOT, path.resolve(opts.env)) },
    reference: "DESIGN.md (not measured here): the S3-Rec authors' PyTorch SASRec, torch 1.13 with 2 threads on this kind of machine, quiet: ~30 s per training epoch, 13–16 s per full-ranking evaluation",
    sections: {} as Partial<Record<SectionId, SectionRecord>>,
  };
  const mdParts: Record<string, string> = {};

  const markdown = (): string => {
    const l = result.load;
    const head = [
      `# Speed benchmark (${result.status})`,
      "",
      `${prov.machine}, ${prov.memoryGiB} GiB, Node ${prov.node}; commit ${prov.commit}${prov.dirty ? " (dirty)" : ""}; ${prov.date}.`,
      `Command: \`${prov.command}\``,
      `TF backend: ${result.backend ? `${result.backend.name} (${result.backend.tfName}${Object.keys(result.backend.details).length ? ", " + Object.entries(result.backend.details).map(([k, v]) => `${k} ${v}`).join(", ") : ""})` : "not used"}.`,
      `Load average (1/5/15 min, ${l.start.cpus} cores): ${l.start.loadavg.join(" / ")} at start${l.end ? `, ${l.end.loadavg.join(" / ")} at end` : ""}.`,
      "",
    ];
    const body = opts.sections.flatMap((id) => {
      const s = result.sections[id];
      if (!s) return [];
      const where = `_${s.status}, ${s.wall_s.toFixed(1)} s wall, ${s.cpu_s.toFixed(1)} s CPU, load ${s.load_before.loadavg[0]} → ${s.load_after.loadavg[0]}_`;
      return [`## ${s.title}`, "", where, "", s.status === "error" ? `**Error:** ${s.error}` : mdParts[id]!, ""];
    });
    return [...head, ...body, `Reference (${result.reference}).`].join("\n");
  };

  const save = (): void => {
    result.backend = ctx.backendInfo ?? null;
    writeResult(output.name, result, markdown(), output.outDir);
  };

  log(`sections: ${opts.sections.join(", ")}; load average ${loadStart.loadavg.join(" / ")} on ${loadStart.cpus} cores`);
  for (const id of opts.sections) {
    const s = SECTIONS[id];
    log(`── ${s.title}`);
    const before = loadSnapshot();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let rec: Omit<SectionRecord, "wall_s" | "cpu_s" | "load_after">;
    try {
      const out = await s.run(ctx);
      mdParts[id] = out.md;
      rec = { title: s.title, status: out.skipped ? "skipped" : "ok", load_before: before, result: out.json };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      log(`${id} FAILED: ${e.stack ?? e.message}`);
      rec = { title: s.title, status: "error", load_before: before, error: e.message };
    }
    const cpu = process.cpuUsage(cpu0);
    result.sections[id] = { ...rec, wall_s: round((performance.now() - t0) / 1000, 2), cpu_s: round((cpu.user + cpu.system) / 1e6, 2), load_after: loadSnapshot() };
    save();
  }
  result.status = "finished";
  result.load.end = loadSnapshot();
  save();
  log(`wrote ${path.join(output.outDir, output.name + ".json")} and .md`);
  return { markdown: markdown(), failed: opts.sections.filter((id) => result.sections[id]?.status === "error") };
}
