// The monitor page during a real (tiny) `rl-train run`: the run loop feeds the server as a hook.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { it } from "node:test";
import { runExperiment } from "../src/cli/experiment.ts";
import { MonitorServer } from "../src/monitor/server.ts";
import { CHROMIUM, openMonitorPage } from "./monitor-helpers.ts";


it("shows a live tiny run in headless Chromium and saves a screenshot", async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} missing: install Debian's chromium to run the browser test`);
    return;
  }
  const server = await MonitorServer.start({ port: 0, heartbeatMs: 200 });
  const { browser, page, errors, state } = await openMonitorPage(server.url);
  try {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-mon-"));
    t.after(() => fs.rmSync(out, { recursive: true, force: true }));
    const run = await runExperiment({
      env: "test/fixtures/env/tiny.json", agent: "policies/bandit.json", episodes: 2, seed: 11, out, runId: "live",
      backend: "wasm", log: null, hooks: [server],
    });
    const steps = run.episodes.reduce((n, e) => n + e.steps, 0);
    let s: any;
    for (let i = 0; i < 500; i++) {
      s = await state();
      if (s.ended && s.charts.loss === steps) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(s.steps, steps, "every step of the run reached the page");
    assert.equal(s.episodes, 2);
    assert.equal(s.charts.loss, steps, "loss curve has one point per step");
    assert.ok(s.charts.reward > 0, "reward curve received data");
    assert.ok(s.charts.ndcg > 0, "validation NDCG@10 curve received data");
    assert.ok(s.charts.heatmapCells > 0, "op heatmap painted");
    assert.equal(s.charts.tableRows, 2);
    // The bandit reports its statistics after every step: the learner chart shows the first key.
    assert.ok(s.updates > 0 && s.learnerKeys.includes("bandit/bestMean"), `learner statistics: ${s.learnerKeys}`);
    assert.ok(s.charts.learner > 0, "learner chart received data");
    assert.equal(s.metric, "NDCG@10");
    assert.deepEqual(errors, []);
    const dir = new URL("./artifacts/", import.meta.url);
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: new URL("monitor-live-run.png", dir).pathname, fullPage: true });
  } finally {
    await page.close();
    await browser.close();
    await server.close();
  }
});

it("draws one reward series per branch of a paired-branch run", async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} missing: install Debian's chromium to run the browser test`);
    return;
  }
  const server = await MonitorServer.start({ port: 0, heartbeatMs: 200 });
  const { browser, page, errors, state } = await openMonitorPage(server.url);
  try {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-mon-"));
    t.after(() => fs.rmSync(out, { recursive: true, force: true }));
    const run = await runExperiment({
      env: "test/fixtures/env/tiny-branches.json", agent: "policies/random.json", episodes: 1, seed: 2, out, runId: "branches",
      backend: "wasm", log: null, hooks: [server], workers: 1,
    });
    const rows = run.episodes[0]!.steps * 2;
    let s: any;
    for (let i = 0; i < 500; i++) {
      s = await state();
      if (s.ended && s.steps === rows) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(s.steps, rows, "a row per branch and step");
    assert.equal(s.branches, 2);
    assert.equal(s.charts.reward, rows, "every branch's reward drawn");
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await browser.close();
    await server.close();
  }
});
