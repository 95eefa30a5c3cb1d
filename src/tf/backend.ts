/**
 * TensorFlow.js backend selection.
 *
 * `auto` tries, in order, tfjs-node-gpu → tfjs-node → wasm → cpu and keeps the first that
 * initialises. tfjs-node(-gpu) download libtensorflow at install time, so on an offline machine
 * their import throws (not always ERR_MODULE_NOT_FOUND): every error is caught and the next
 * backend is tried. The reason each candidate was skipped is kept for the run's config.
 */
import * as tf from "@tensorflow/tfjs";

export type BackendName = "gpu" | "node" | "wasm" | "cpu";
export type BackendChoice = BackendName | "auto";
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "gpu", "node", "wasm", "cpu"];

export interface BackendInfo {
  /** The backend that runs. */
  name: BackendName;
  /** tf's own name for it (`tensorflow`, `wasm`, `cpu`). */
  tfName: string;
  /** Why each earlier candidate was skipped. */
  skipped: Array<{ name: BackendName; reason: string }>;
  /** Extra facts, e.g. wasm SIMD/threads. */
  details: Record<string, string | number | boolean>;
}

let active: BackendInfo | undefined;

/** Candidate order for `auto`. */
const AUTO_ORDER: BackendName[] = ["gpu", "node", "wasm", "cpu"];

/** Module specifiers, overridable so tests can simulate a missing package. */
export const backendModules: Record<"gpu" | "node", string> = {
  gpu: "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
};

async function tryBackend(name: BackendName): Promise<BackendInfo> {
  const details: BackendInfo["details"] = {};
  if (name === "gpu" || name === "node") {
    // tfjs-node registers the `tensorflow` backend on import; it must share our tfjs-core copy.
    await import(backendModules[name]);
    if (!(await tf.setBackend("tensorflow"))) throw new Error("setBackend('tensorflow') returned false");
  } else if (name === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // Node runs the wasm backend single-threaded; one thread per process is the honest setting.
    wasm.setThreadsCount?.(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("setBackend('wasm') returned false");
    details.simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
  } else {
    if (!(await tf.setBackend("cpu"))) throw new Error("setBackend('cpu') returned false");
  }
  await tf.ready();
  return { name, tfName: tf.getBackend(), skipped: [], details };
}

/**
 * Select and initialise a backend. Idempotent per process for the same choice.
 * @param choice `auto` (default) or a specific backend; a specific choice that fails throws.
 * @param log where to print which backend runs (pass `null` to stay quiet).
 */
export async function selectBackend(
  choice: BackendChoice = "auto",
  log: ((line: string) => void) | null = (l) => console.error(l),
): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`\`--backend\` must be one of ${BACKEND_CHOICES.join(", ")}; got "${choice}"`);
  }
  if (active && (choice === "auto" || choice === active.name)) return active;
  const order = choice === "auto" ? AUTO_ORDER : [choice as BackendName];
  const skipped: BackendInfo["skipped"] = [];
  for (const name of order) {
    try {
      const info = await tryBackend(name);
      info.skipped = skipped;
      active = info;
      log?.(
        `[augrl] tf backend: ${name} (${info.tfName})` +
          (skipped.length ? `; skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}` : ""),
      );
      return info;
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 160);
      if (choice !== "auto") {
        throw new Error(`\`--backend ${choice}\` failed to initialise: ${reason}. Use \`--backend auto\` to fall back.`);
      }
      skipped.push({ name, reason });
    }
  }
  throw new Error(`no tf backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

/** The backend chosen by the last `selectBackend`, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}
