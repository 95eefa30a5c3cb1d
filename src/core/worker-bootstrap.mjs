// Worker-thread entry: Node cannot load .ts in a worker by itself, so register tsx and import
// the TypeScript module named in workerData.module.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";
register();
await import(workerData.module);
