// The SIMD counting kernel must count exactly like the JS loop `x < st`, NaN and ties included.
import { strict as assert } from "node:assert";
import { before, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../src/core/rng.ts";
import { heapCounter } from "../src/tf/count-below.ts";
import { selectBackend } from "../src/tf/backend.ts";

before(async () => {
  await selectBackend("wasm", null);
});

const jsCount = (xs: Float32Array, from: number, n: number, st: number) => {
  let c = 0;
  for (let j = from; j < from + n; j++) c += (xs[j]! < st) as unknown as number;
  return c;
};

it("counts like JS `<` on the wasm heap: any offset and length, NaN, ±0, ±Infinity and ties", () => {
  const rng = new Rng(7);
  const special = [NaN, 0, -0, Infinity, -Infinity, 0.5, 0.5, -1e-30];
  const data = Float32Array.from({ length: 1000 }, () => (rng.random() < 0.2 ? special[rng.int(special.length)]! : rng.normal()));
  const t = tf.tensor1d(data);
  try {
    const view = (tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array }).typedArrayFromHeap(t);
    const count = heapCounter(view);
    assert.ok(count, "a heap view gets the kernel");
    let checked = 0;
    // st is always a float32 in ranking (read from the scores); a double between two floats
    // would compare differently once the kernel rounds it to f32.
    for (const st of [...special, data[3]!, data[500]!, 2, -2].map(Math.fround)) {
      for (const [from, n] of [[0, 0], [0, 1], [1, 3], [2, 4], [3, 5], [5, 17], [0, 1000], [13, 987], [990, 10]] as const) {
        assert.equal(count(from, n, st), jsCount(view, from, n, st), `st ${st}, [${from}, ${from + n})`);
        checked++;
      }
    }
    assert.equal(checked, 12 * 9);
    assert.ok(jsCount(view, 0, 1000, 0.5) > 0 && jsCount(view, 0, 1000, NaN) === 0);
  } finally {
    t.dispose();
  }
});

it("scores that are not a view of the wasm heap get no kernel (callers use the JS loop)", () => {
  assert.equal(heapCounter(new Float32Array(16)), undefined);
});
