// Worker thread body of a branch runner: one env for the run, stages played on request (see branches.ts).
import { parentPort, workerData } from "node:worker_threads";
import { branchWorkerEnv, playBranchStage, type BranchWorkerInit, type BranchWorkerReply, type BranchWorkerRequest } from "./branches.ts";

const port = parentPort!;
const post = (m: BranchWorkerReply) => port.postMessage(m);
const init = (workerData as { init: BranchWorkerInit }).init;
try {
  const env = await branchWorkerEnv(init);
  port.on("message", (m: BranchWorkerRequest) => {
    const { job } = m;
    playBranchStage(env, init.agent, job, (index, step) => post({ type: "step", branch: job.branch, index, step })).then(
      (result) => post({ type: "done", result }),
      (err: Error) => post({ type: "error", error: err.stack ?? String(err) }),
    );
  });
  post({ type: "ready" });
} catch (err) {
  post({ type: "error", error: (err as Error).stack ?? String(err) });
}
