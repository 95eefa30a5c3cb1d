/**
 * JSON with typed arrays: checkpoints hold model weights and Adam moments (Float32Array) next to
 * small JSON state. Typed arrays become `{"$f32": "<base64>"}` (or `$i32`/`$f64`), exact to the bit.
 *
 * `{ exactNumbers: true }` also keeps the numbers plain JSON cannot hold (NaN, ±Infinity and −0
 * become `{"$num": "NaN"}` …): what crosses a process or machine boundary in place of a
 * structured clone (queue jobs and their results) must come back exactly as it left, since a
 * NaN loss turned into null, or −0 into 0, would change the recorded rows.
 */
const TAGS = { $f32: Float32Array, $f64: Float64Array, $i32: Int32Array } as const;
type Tag = keyof typeof TAGS;
const NUM = "$num";

export interface SerializeOptions {
  /** Tag NaN, ±Infinity and −0 so that they parse back unchanged (both sides must pass it). */
  exactNumbers?: boolean;
}

function tagOf(v: unknown): Tag | undefined {
  if (v instanceof Float32Array) return "$f32";
  if (v instanceof Float64Array) return "$f64";
  if (v instanceof Int32Array) return "$i32";
  return undefined;
}

export function stringifyWithArrays(value: unknown, options: SerializeOptions = {}): string {
  return JSON.stringify(value, (_key, v) => {
    if (options.exactNumbers && typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0))) return { [NUM]: Object.is(v, -0) ? "-0" : String(v) };
    const tag = tagOf(v);
    if (!tag) return v;
    const a = v as Float32Array;
    return { [tag]: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64") };
  });
}

export function parseWithArrays<T = unknown>(text: string, options: SerializeOptions = {}): T {
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (options.exactNumbers && keys.length === 1 && keys[0] === NUM && typeof v[NUM] === "string") return Number(v[NUM]);
      if (keys.length === 1 && keys[0]! in TAGS) {
        const tag = keys[0] as Tag;
        const bytes = Buffer.from(v[tag] as string, "base64");
        const Ctor = TAGS[tag];
        // Copy into a fresh, aligned buffer: Buffer pools are not aligned for Float64Array.
        const out = new Ctor(bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
        new Uint8Array(out.buffer).set(bytes);
        return out;
      }
    }
    return v;
  }) as T;
}
