// The monitor page during a real (tiny) `rl-train run`: the run loop feeds the server as a hook.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { it, type TestContext } from "node:test";
import { runExperiment, type RunOptions, type RunResult } from "../src/cli/experiment.ts";
import { MonitorServer } from "../src/monitor/server.ts";
import { CHROMIUM, openMonitorPage } from "./monitor-helpers.ts";
import { tempDirs } from "./tmp-dirs.ts";

const tmp = tempDirs("mon");

/**
 * Run `options` with a monitor server as a hook and a headless page on it; wait until the page
 * saw the run's end and `rows` step rows (and, when given, `settled` holds: charts redraw on
 * animation frames, so a chart may trail the row count by a frame), then hand the page's state
 * to `check`.
 */
async function runWatched(t: TestContext, options: Partial<RunOptions>, rows: (run: RunResult) => number, check: (s: any, page: Awaited<ReturnType<typeof openMonitorPage>>) => Promise<void>, settled: (s: any) => boolean = () => true): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} missing: install Debian's chromium to run the browser test`);
    return;
  }
  const server = await MonitorServer.start({ port: 0, heartbeatMs: 200 });
  const opened = await openMonitorPage(server.url);
  try {
    const run = await runExperiment({ backend: "wasm", log: null, hooks: [server], out: tmp(), ...options });
    const want = rows(run);
    let s: any;
    for (let i = 0; i < 500; i++) {
      s = await opened.state();
      if (s.ended && s.steps === want && settled(s)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(s.steps, want, "every step row of the run reached the page");
    await check(s, opened);
    assert.deepEqual(opened.errors, []);
  } finally {
    await opened.page.close();
    await opened.browser.close();
    await server.close();
  }
}

it("shows a live tiny run in headless Chromium and saves a screenshot", async (t) => {
  await runWatched(
    t,
    { env: "test/fixtures/env/tiny.json", agent: "policies/bandit.json", episodes: 2, seed: 11, runId: "live" },
    (run) => run.episodes.reduce((n, e) => n + e.steps, 0),
    async (s, { page }) => {
      assert.equal(s.episodes, 2);
      assert.equal(s.charts.loss, s.steps, "loss curve has one point per step");
      assert.ok(s.charts.reward > 0, "reward curve received data");
      assert.ok(s.charts.ndcg > 0, "validation NDCG@10 curve received data");
      assert.ok(s.charts.heatmapCells > 0, "op heatmap painted");
      assert.equal(s.charts.tableRows, 2);
      // The bandit reports its statistics after every step: the learner chart shows the first key.
      assert.ok(s.updates > 0 && s.learnerKeys.includes("bandit/bestMean"), `learner statistics: ${s.learnerKeys}`);
      assert.ok(s.charts.learner > 0, "learner chart received data");
      assert.equal(s.metric, "NDCG@10");
      const dir = new URL("./artifacts/", import.meta.url);
      fs.mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: new URL("monitor-live-run.png", dir).pathname, fullPage: true });
    },
    (s) => s.charts?.loss === s.steps,
  );
});

it("draws one reward series per branch of a paired-branch run", async (t) => {
  await runWatched(
    t,
    { env: "test/fixtures/env/tiny-branches.json", agent: "policies/random.json", episodes: 1, seed: 2, runId: "branches", workers: 1 },
    (run) => run.episodes[0]!.steps * 2,
    async (s) => {
      assert.equal(s.branches, 2);
      assert.equal(s.charts.reward, s.steps, "every branch's reward drawn");
    },
    (s) => s.charts?.reward === s.steps,
  );
});
