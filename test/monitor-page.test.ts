import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { buildMonitorPage, MONITOR_HTML } from "../scripts/build-monitor.ts";
import { Rng } from "../src/core/rng.ts";
import { MonitorServer } from "../src/monitor/server.ts";
import { syntheticRun } from "../src/record/synthetic.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "./monitor-helpers.ts";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

describe("monitor page", () => {
  it("the committed bundle (src/monitor/static/monitor.html) is up to date with its sources", async () => {
    const fresh = await buildMonitorPage();
    assert.ok(fresh === fs.readFileSync(MONITOR_HTML, "utf8"), "stale page bundle: run `node --import tsx scripts/build-monitor.ts`");
    assert.doesNotMatch(fresh, /https?:\/\/(cdn|unpkg|jsdelivr)/, "no CDN references");
  });

  let browser: Browser | null = null;
  after(async () => {
    await browser?.close();
  });

  it("draws a synthetic run in headless Chromium (curves, heatmap, table, reconnect)", async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} missing: install Debian's chromium (apt-get install -y chromium) to run the browser test`);
      return;
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
    const run = syntheticRun(new Rng(5), { episodes: 6, stepsPerEpisode: 40 });
    let server = await MonitorServer.start({ port: 0, heartbeatMs: 100 });
    const port = server.port;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    try {
      await page.goto(server.url);
      const state = () => page.evaluate(() => (window as unknown as { __augrlMonitor: any }).__augrlMonitor);
      await waitForAsync(async () => (await state()).session !== "", "page connected");
      // Publish while the page is open, like a training loop would: a few events at a time.
      server.onRunStart(run.info);
      const half = run.events.length / 2;
      for (let i = 0; i < half; i += 10) {
        for (const e of run.events.slice(i, Math.min(i + 10, half))) e.kind === "step" ? server.onStep(e.row) : server.onEpisode(e.row);
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitForAsync(async () => (await state()).steps === 120, "first half drawn");

      // The server goes away and comes back on the same port with the full run: the page
      // reconnects, notices the new session, and redraws from the start.
      await server.close();
      await waitForAsync(async () => /reconnecting/.test((await state()).status), "page shows reconnecting");
      server = await MonitorServer.start({ port, heartbeatMs: 100 });
      server.onRunStart(run.info);
      for (const e of run.events) e.kind === "step" ? server.onStep(e.row) : server.onEpisode(e.row);
      server.onRunEnd({ run_id: run.info.run_id, status: "completed", episodes: 6, steps: 240, duration_s: 14 });
      await waitForAsync(async () => {
        const st = await state();
        return st.ended === true && st.charts.loss === run.steps.length;
      }, "page received and drew the whole run");
      const s = await state();
      assert.equal(s.steps, run.steps.length);
      assert.equal(s.episodes, run.episodes.length);
      assert.equal(s.resets, 1, "one reset for the new session");
      assert.equal(s.charts.loss, run.steps.length);
      assert.equal(s.charts.reward, run.steps.filter((r) => r.reward !== null).length);
      assert.equal(s.charts.ndcg, run.steps.filter((r) => r.valid_ndcg10 !== null).length);
      assert.equal(s.charts.magnitude, run.steps.reduce((n, r) => n + new Set(r.ops).size, 0));
      assert.ok(s.charts.heatmapCells > 0, "heatmap painted");
      assert.equal(s.charts.tableRows, run.episodes.length);
      assert.match(s.status, /run completed/);
      assert.deepEqual(errors, []);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("monitor.png", ARTIFACTS).pathname, fullPage: true });
    } finally {
      await page.close();
      await server.close();
    }
  });
});

async function waitForAsync(cond: () => Promise<boolean>, what: string): Promise<void> {
  let ok = false;
  for (let i = 0; i < 500 && !ok; i++) {
    ok = await cond();
    if (!ok) await new Promise((r) => setTimeout(r, 20));
  }
  if (!ok) throw new Error(`timed out waiting for: ${what}`);
}
