// The parts of `--queue` that need no Redis: the URL, job envelopes and ids, the wire format,
// and how a worker finds (and checks) the files a job names.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { checkExperimentOptions } from "../src/cli/options.ts";
import { fileRefs, localizeSpec, MissingData } from "../src/cli/queue/paths.ts";
import { codeVersion, decode, encode, jobId, PROTOCOL_VERSION, refusal, type Envelope } from "../src/cli/queue/protocol.ts";
import { parseQueueUrl } from "../src/cli/queue/url.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "augrl-queue-proto-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("--queue URL", () => {
  it("reads host, port, database, ACL user and password, TLS; never shows the password", () => {
    assert.deepEqual(parseQueueUrl("--queue", "redis://127.0.0.1:6379", {}), { host: "127.0.0.1", port: 6379, db: 0, display: "redis://127.0.0.1:6379" });
    const c = parseQueueUrl("--queue", "rediss://worker:p%40ss@redis.example:6380/2", {});
    assert.deepEqual(c, { host: "redis.example", port: 6380, db: 2, username: "worker", password: "p@ss", tls: { servername: "redis.example" }, display: "rediss://worker:***@redis.example:6380/2" });
    assert.equal(parseQueueUrl("--queue", "redis://[::1]:7000", {}).host, "::1");
    assert.equal(parseQueueUrl("--queue", "redis://h:1", { AUGRL_REDIS_PASSWORD: "from-env" }).password, "from-env");
  });

  it("rejects what is not redis://HOST:PORT[/DB], naming the option and the value", () => {
    const bad: Array<[unknown, RegExp]> = [
      ["http://h:1", /`--queue` must start with redis:\/\/ or rediss:\/\/; got "http:\/\/h:1"/],
      ["redis://h", /`--queue` names no port: "redis:\/\/h"; pass the port explicitly, e.g. redis:\/\/h:6379/],
      ["redis://h:1/x", /`--queue`: the database after the port must be a number .* got "x"/],
      ["redis://:secret@h:1/x", /got "x" in "redis:\/\/:\*\*\*@h:1\/x"/],
      ["h:6379", /`--queue` must start with redis:\/\//],
      ["", /`--queue` must be redis:\/\/HOST:PORT\[\/DB\]/],
    ];
    for (const [text, re] of bad) assert.throws(() => parseQueueUrl("--queue", text, {}), re);
    assert.throws(() => checkExperimentOptions({ queue: "redis://h:1", workers: 2 }), /`--workers` \(2\) sets local threads and does not apply with `--queue`/);
    assert.throws(() => checkExperimentOptions({ queue: "tcp://h:1" }), /`--queue` must start with redis:\/\//);
  });
});

describe("job envelopes", () => {
  const envelope = (over: Partial<Envelope> = {}): Envelope => ({ protocol: PROTOCOL_VERSION, code: "0.1.0+abc", kind: "episode", label: "episode 0", body: encode({ seed: "1/episode-0" }), ...over });

  it("job ids are content hashes: the same job has the same id, any other input another", () => {
    const id = jobId(envelope());
    assert.match(id, /^episode-[0-9a-f]{40}$/);
    assert.equal(jobId(envelope({ label: "renamed" })), id, "the label is for logs only");
    for (const other of [{ code: "0.1.0+abd" }, { protocol: PROTOCOL_VERSION + 1 }, { body: encode({ seed: "1/episode-1" }) }, { kind: "cell" as const }]) {
      assert.notEqual(jobId(envelope(other)), id);
    }
  });

  it("a worker refuses another protocol or code version, and data that is no envelope, with the fix", () => {
    const mine = { protocol: PROTOCOL_VERSION, code: "0.1.0+abc" };
    assert.equal(refusal(envelope(), mine), null);
    assert.match(refusal(envelope({ code: "0.1.0+def" }), mine)!, /made by code "0\.1\.0\+def" and this worker runs 0\.1\.0\+abc: check out the same commit/);
    assert.match(refusal(envelope({ protocol: 99 }), mine)!, /queue protocol 99 and this worker protocol 1/);
    assert.match(refusal({ hello: 1 }, mine)!, /not an augrl job envelope/);
    assert.match(refusal(envelope({ kind: "branch" as never }), mine)!, /unknown job kind "branch"/);
    assert.match(codeVersion(), /^\d+\.\d+\.\d+(\+[0-9a-f]{12}(\.dirty-[0-9a-f]{12})?)?$/);
  });

  it("the wire format keeps typed arrays, NaN, ±Infinity and -0 exactly", () => {
    const value = { obs: Float32Array.from([0.1, -2.5, 3e-8]), loss: NaN, hi: Infinity, lo: -Infinity, zero: -0, plain: [1, 0.30000000000000004], nested: { f64: Float64Array.from([Math.PI]) } };
    const back = decode<typeof value>(encode(value));
    assert.ok(back.obs instanceof Float32Array && back.nested.f64 instanceof Float64Array);
    assert.deepEqual(back, value);
    assert.ok(Object.is(back.zero, -0) && Number.isNaN(back.loss));
  });
});

describe("files named by a job", () => {
  // Two checkouts of the project on two "machines": the coordinator's and a worker's.
  const coordinator = path.join(tmp, "coordinator");
  const worker = path.join(tmp, "worker");
  for (const root of [coordinator, worker]) {
    fs.mkdirSync(path.join(root, "envs", "data", "set"), { recursive: true });
    fs.writeFileSync(path.join(root, "envs", "data", "set", "Beauty.txt"), "1 2 3\n");
    fs.writeFileSync(path.join(root, "envs", "data", "set", "titles.tsv"), "2\tlipstick\n");
  }
  const shared = path.join(tmp, "mnt-shared-model.json");
  fs.writeFileSync(shared, "{}");
  const spec = () => ({
    source: path.join(coordinator, "envs", "x.json"),
    dataset: { path: path.join(coordinator, "envs", "data", "set"), name: "set" },
    rl: { warmStart: shared, ops: ["identity"] },
  });

  it("paths inside the project root travel relative to it, others as they are; the worker resolves them against its own checkout", () => {
    const refs = fileRefs(spec(), coordinator);
    assert.deepEqual(refs.map((r) => [r.at.join("."), r.project ?? null, r.files ? Object.keys(r.files) : null]), [
      ["source", "envs/x.json", null],
      ["dataset.path", "envs/data/set", ["Beauty.txt", "titles.tsv"]],
      ["rl.warmStart", null, [""]],
    ]);
    const local = localizeSpec(spec(), refs, worker);
    assert.equal(local.dataset.path, path.join(worker, "envs", "data", "set"));
    assert.equal(local.source, path.join(worker, "envs", "x.json"), "a label, rebased without a check");
    assert.equal(local.rl.warmStart, shared);
  });

  it("a missing or different copy fails with MissingData naming the key, the file and the fix", () => {
    const refs = fileRefs(spec(), coordinator);
    fs.writeFileSync(path.join(worker, "envs", "data", "set", "titles.tsv"), "2\tmascara\n");
    assert.throws(() => localizeSpec(spec(), refs, worker), (e: Error) =>
      e instanceof MissingData && /`dataset\.path`: envs\/data\/set \(under the project root .*worker\)\/titles\.tsv on worker .* differs from the coordinator's copy \(sha256 [0-9a-f]{12}… vs [0-9a-f]{12}…\)/.test(e.message));
    fs.rmSync(path.join(worker, "envs", "data"), { recursive: true });
    assert.throws(() => localizeSpec(spec(), refs, worker), /`dataset\.path`: envs\/data\/set .* does not exist on worker .*run the worker from a checkout that has this file/);
  });
});
