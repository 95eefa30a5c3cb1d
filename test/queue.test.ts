// Scaling out on BullMQ: `rl-train worker` processes and `--queue` coordinators against a real
// redis-server started here on a free loopback port, without persistence.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { loadAgentSpec, resolveAgentSpec } from "../src/agents/index.ts";
import { runCell, type CellSpec } from "../src/cli/cell.ts";
import { runExperiment } from "../src/cli/experiment.ts";
import { episodeAgentState, type FrozenEpisodeJob } from "../src/cli/parallel.ts";
import { QueueClient } from "../src/cli/queue/client.ts";
import { QUEUE_NAME } from "../src/cli/queue/protocol.ts";
import { bullConnection, parseQueueUrl } from "../src/cli/queue/url.ts";
import { startWorker, type CellJobResult } from "../src/cli/queue/worker.ts";
import { createAgent } from "../src/agents/index.ts";
import { createEnv, loadAnyEnvSpec } from "../src/env/index.ts";
import { Rng } from "../src/core/rng.ts";
import { readArrowStream } from "../src/record/recorder.ts";
import { count, REDIS_MISSING, startRedis, startWorkerProcess, type TestRedis, type TestWorker } from "./queue-helpers.ts";
import { waitFor } from "./monitor-helpers.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-queue-"));
let redis: TestRedis | null = null;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A log file's rows without what may differ between two runs of the same seed: wall-clock columns and run ids. */
function rows(runDir: string, file: "steps.arrows" | "episodes.arrows"): string[] {
  return readArrowStream<Record<string, unknown>>(path.join(runDir, file)).rows.map((r) => {
    const { wall_ms: _w, run_id: _r, duration_s: _d, ...rest } = r;
    return JSON.stringify(rest, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : typeof v === "bigint" ? String(v) : v));
  });
}

/** A frozen-policy episode job of the tiny test env, as a parallel round would make it. */
async function tinyEpisodeJob(): Promise<FrozenEpisodeJob> {
  const env = loadAnyEnvSpec("test/fixtures/env/tiny.json");
  const agentSpec = resolveAgentSpec(loadAgentSpec("policies/random.json"));
  const built = await createEnv(env);
  try {
    const agent = createAgent(agentSpec, built.actionSpace, built.observationDim, new Rng(1).child("agent"));
    return { env, agent: agentSpec, agentState: episodeAgentState(agent.save(), 1, 0), backend: "wasm", episode: 0, seed: "1/episode-0" };
  } finally {
    built.dispose();
  }
}

describe("queue workers on a real redis-server", () => {
  it("two worker processes: the run equals the local one, also after a worker is killed with SIGKILL mid-job; a re-run re-attaches to the finished jobs", async (t) => {
    if (!redis) return t.skip(REDIS_MISSING);
    const url = redis.url;
    const common = {
      env: "envs/beauty-1k-sasrec.json", agent: "policies/random.json", episodes: 4, parallelEpisodes: 2, seed: 9,
      budgetEpochs: 0.25, backend: "wasm" as const, out: tmp, log: null,
    };
    const local = await runExperiment({ ...common, workers: 1, runId: "local" });
    const workers: TestWorker[] = [];
    try {
      // A 2 s lock: the killed worker's job is taken over within seconds instead of BullMQ's default 30.
      workers.push(...(await Promise.all([0, 1].map(() => startWorkerProcess(url, ["--lock-ms", "2000", "--threads", "1"])))));
      const [doomed, survivor] = workers as [TestWorker, TestWorker];
      // Killed as soon as it has started an episode: starting its thread and playing it take seconds more.
      const killed = waitFor(() => /: started/.test(doomed.log()), "the first worker to start a job", 30_000).then(() => doomed.child.kill("SIGKILL"));
      const queued = await runExperiment({ ...common, queue: url, runId: "queued" });
      await killed;
      assert.equal(doomed.child.signalCode ?? (await new Promise((r) => doomed.child.once("exit", (_c, s) => r(s)))), "SIGKILL");
      assert.doesNotMatch(doomed.log(), /: done in/, "the killed worker finished no job");
      // The killed worker's job went back to the queue (BullMQ's stalled-job check) and ran again.
      assert.match(survivor.log(), /attempt 2\)/, survivor.log());
      assert.equal(count(survivor.log(), /: done in/), 4);
      for (const f of ["steps.arrows", "episodes.arrows"] as const) assert.deepEqual(rows(queued.runDir, f), rows(local.runDir, f), f);
      assert.equal(rows(local.runDir, "steps.arrows").length, 4 * 2);

      // A coordinator started again with the same inputs finds every job finished: nothing runs again.
      const again = await runExperiment({ ...common, queue: url, runId: "again" });
      assert.equal(count(survivor.log(), /: started/), 4);
      for (const f of ["steps.arrows", "episodes.arrows"] as const) assert.deepEqual(rows(again.runDir, f), rows(local.runDir, f), f);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  it("a refused code version and a bad spec each fail once at the coordinator with the worker's reason, without retries", async (t) => {
    if (!redis) return t.skip(REDIS_MISSING);
    const url = redis.url;
    const client = await QueueClient.connect(url, null);
    const queue = new Queue(QUEUE_NAME, { connection: bullConnection(parseQueueUrl("--queue", url)) });
    try {
      const job = await tinyEpisodeJob();
      const stale = await startWorker({ queue: url, code: "0.0.1+0123456789ab", log: null, lockMs: 2000 });
      await assert.rejects(client.run("episode", [job], () => "episode 0 (tiny)"),
        /^Error: episode 0 \(tiny\) failed on a queue worker .*refused by worker .*made by code "0\.1\.0.*this worker runs 0\.0\.1\+0123456789ab: check out the same commit/);
      await stale.close();
      assert.equal(stale.finished.failed, 1);

      const worker = await startWorker({ queue: url, log: null, lockMs: 2000 });
      try {
        const bad = { ...job, env: { ...job.env, kind: "no-such-kind" } };
        await assert.rejects(client.run("episode", [bad], () => "episode 0 (bad spec)"), /^Error: episode 0 \(bad spec\) failed on a queue worker .*`kind` must be one of [a-z, ]+; got "no-such-kind"$/);
        // Failed for good after one attempt each (the jobs allow 3): no retry loop.
        const stored = (await queue.getJobs(["failed"])).filter((j) => j.name === "episode");
        assert.deepEqual(stored.map((j) => [j.attemptsStarted, j.attemptsMade]), [[1, 1], [1, 1]]);

        // The refused job, submitted again with a worker of the right version, now runs.
        const [played] = await client.run<FrozenEpisodeJob, { steps: unknown[] }>("episode", [job], () => "episode 0 (tiny)");
        assert.ok(played!.steps.length > 0);
      } finally {
        await worker.close();
      }
    } finally {
      await queue.close();
      await client.close();
    }
  });

  it("a benchmark cell through the queue: same outcome and run files as the cell run locally", async (t) => {
    if (!redis) return t.skip(REDIS_MISSING);
    const url = redis.url;
    const spec: CellSpec = {
      agent: "random", seed: 2, key: "random-s2", env: loadAnyEnvSpec("test/fixtures/env/tiny.json"),
      agentSpec: resolveAgentSpec(loadAgentSpec("policies/random.json")), budgetEpochs: 0.5, out: "",
    };
    const local = await runCell({ ...spec, out: path.join(tmp, "cells-local") }, null);
    const worker = await startWorker({ queue: url, log: null, threads: 1 });
    const client = await QueueClient.connect(url, null);
    try {
      const [res] = await client.run<CellSpec, CellJobResult>("cell", [spec], () => "cell random-s2");
      const runDir = path.join(tmp, "cells-queued", spec.key);
      fs.mkdirSync(runDir, { recursive: true });
      for (const [name, b64] of Object.entries(res!.files)) fs.writeFileSync(path.join(runDir, name), Buffer.from(b64, "base64"));
      assert.deepEqual(Object.keys(res!.files).sort(), ["config.json", "episodes.arrows", "steps.arrows", "summary.json", "updates.arrows"]);
      const { runDir: _r, ...outcome } = local;
      assert.deepEqual(res!.outcome, outcome);
      for (const f of ["steps.arrows", "episodes.arrows"] as const) assert.deepEqual(rows(runDir, f), rows(local.runDir, f), f);
    } finally {
      await worker.close();
      await client.close();
    }
  });
});
