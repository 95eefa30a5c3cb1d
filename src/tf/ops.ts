/**
 * Small tf building blocks with gradients that run well on the wasm and cpu backends.
 *
 * Why custom gradients (measured, see DESIGN.md):
 * - `tf.gather`'s gradient uses UnsortedSegmentSum, which wasm lacks and which is very slow on
 *   cpu for a 12k-row table; `embeddingLookup` uses `scatterND` (sums duplicate rows) instead.
 * - Autodiff of `matMul(a, b)` produces transposed matMuls that take a slow path on wasm;
 *   `matmul` transposes explicitly and then runs plain matMuls in both directions.
 *
 * wasm kernels to route around (tfjs-backend-wasm 4.22, measured on a 2-core machine):
 * - GatherV2 walks the output element by element through a generic index computation: 12,800
 *   rows of a 64-wide table took ~90 ms; `embeddingLookupHost` copies the rows from a host view
 *   of the table and uploads them (~3 ms).
 * - Every matMul with a batch dimension or a transpose flag runs a scalar loop (~0.8 GFLOPS);
 *   only plain 2-D products reach XNNPACK (~11 GFLOPS). `batchMatmul` sends large batched
 *   products through a depthwise convolution, which XNNPACK runs as a grouped GEMM (2-3x).
 * - `tf.dropout` draws its uniforms one JS call at a time (~85 ns each; 0.6 s per step at
 *   length 50). `dropout` runs the same alea recurrence inline, so the mask is bit-identical.
 * - Sum over a leading axis transposes first; bias, gamma/beta and position-table gradients
 *   are column sums, done as a matMul with a ones vector (`sumRows`).
 * - `tf.logSumExp`'s gradient goes through `max`'s, a broadcast Equal that wasm runs element by
 *   element (1.5 s for [12800, 257]), and its Exp is scalar; `logSumExpRows` reads the softmax
 *   kernel instead (37 ms forward and backward for the same shape).
 */
import * as tf from "@tensorflow/tfjs";
import seedrandom from "seedrandom";

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Rows of `table` ([V, d]) for integer `ids` (any shape S) → [...S, d]; gradient via scatterND. */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flatIds = ids.reshape([-1]) as tf.Tensor1D;
  const [V, d] = table.shape;
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = tf.gather(t as tf.Tensor2D, flatIds);
    // The ids must outlive the forward scope: saved tensors are kept until backprop.
    save([flatIds]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
        tf.scatterND(saved[0]!.reshape([-1, 1]), (dy as tf.Tensor).reshape([-1, d]), [V, d]),
      ],
    };
  }) as unknown as CustomGradFn);
  return (lookup(table) as tf.Tensor).reshape([...ids.shape, d]);
}

/**
 * `embeddingLookup` when the caller holds the ids and an exact host copy of the table
 * (`hostTable`, row-major [V, d]): the rows are copied in JS instead of by GatherV2. Same value,
 * same scatterND gradient. `shape` is the shape of `ids` (the result is [...shape, d]).
 */
export function embeddingLookupHost(table: tf.Tensor2D, hostTable: Float32Array, ids: Int32Array, shape: number[]): tf.Tensor {
  const [V, d] = table.shape;
  if (hostTable.length !== V * d) {
    throw new Error(`embeddingLookupHost: \`hostTable\` has ${hostTable.length} floats, the table [${V}, ${d}] needs ${V * d}`);
  }
  const rows = new Float32Array(ids.length * d);
  for (let i = 0; i < ids.length; i++) {
    const r = ids[i]!;
    if (!(r >= 0 && r < V)) throw new RangeError(`embeddingLookupHost: id ${r} outside the table's ${V} rows`);
    rows.set(hostTable.subarray(r * d, r * d + d), i * d);
  }
  const lookup = tf.customGrad(((_t: tf.Tensor) => ({
    value: tf.tensor2d(rows, [ids.length, d]),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [
      tf.tidy(() => tf.scatterND(tf.tensor2d(ids, [ids.length, 1], "int32"), (dy as tf.Tensor).reshape([-1, d]), [V, d])),
    ],
  })) as unknown as CustomGradFn);
  return (lookup(table) as tf.Tensor).reshape([...shape, d]);
}

/** Batched or plain matmul a·b (rank 2 or 3) whose gradient avoids transposed-matmul kernels. */
export function matmul<R extends tf.Rank.R2 | tf.Rank.R3>(a: tf.Tensor<R>, b: tf.Tensor<R>): tf.Tensor<R> {
  const perm = a.rank === 3 ? [0, 2, 1] : [1, 0];
  const f = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sy] = saved as [tf.Tensor3D, tf.Tensor3D];
        const g = dy as tf.Tensor3D;
        return [tf.matMul(g, tf.transpose(sy, perm)), tf.matMul(tf.transpose(sx, perm), g)];
      },
    };
  }) as unknown as CustomGradFn);
  return f(a, b) as tf.Tensor<R>;
}

/**
 * Below this many multiply-adds per batch entry the scalar batched matMul beats the three
 * transposes the depthwise route needs (measured, CPU time, 512 entries, dh 32: break-even near
 * L = 6..8; 2x faster at L = 16, 2.5-3x at L = 20..50).
 */
const DEPTHWISE_MIN_MACS = 1500;

/**
 * op(a)·op(b) per batch entry, a [C, T, W] (or [C, W, T] with `ta`), b [C, W, M] (or [C, M, W]
 * with `tb`) → [C, T, M]. Large products run as a depthwise conv: input [1, T, W, C] (channel c =
 * batch entry c), filter [1, W, C, M], valid padding, so output channel c·M + m at row t is
 * Σ_w a_c[t, w]·b_c[w, m]. No autodiff through this (gradients are built from it explicitly).
 */
function bmmRaw(a: tf.Tensor3D, b: tf.Tensor3D, ta: boolean, tb: boolean): tf.Tensor3D {
  const C = a.shape[0];
  const [T, W] = ta ? [a.shape[2], a.shape[1]] : [a.shape[1], a.shape[2]];
  const M = tb ? b.shape[1] : b.shape[2];
  if (T * W * M < DEPTHWISE_MIN_MACS || !hasDepthwise()) return tf.matMul(a, b, ta, tb);
  return tf.tidy(() => {
    const input = tf.transpose(a, ta ? [2, 1, 0] : [1, 2, 0]).reshape([1, T, W, C]) as tf.Tensor4D;
    const filter = tf.transpose(b, tb ? [2, 0, 1] : [1, 0, 2]).reshape([1, W, C, M]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(input, filter, 1, "valid"); // [1 T 1 C·M]
    return tf.transpose(out.reshape([T, C, M]), [1, 0, 2]) as tf.Tensor3D;
  });
}

/** Only wasm benefits; cpu's depthwise conv is no faster than its matMul. */
function hasDepthwise(): boolean {
  return tf.getBackend() === "wasm";
}

/**
 * Batched matmul a·b (or a·bᵀ with `transposeB`), a [C, T, W], b [C, W, M] (or [C, M, W]).
 * Same value as `tf.matMul(a, b, false, transposeB)` up to float summation order; forward and
 * both gradients take the depthwise route when the per-entry product is large (see `bmmRaw`).
 */
export function batchMatmul(a: tf.Tensor3D, b: tf.Tensor3D, transposeB = false): tf.Tensor3D {
  const f = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: bmmRaw(x as tf.Tensor3D, y as tf.Tensor3D, false, transposeB),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sy] = saved as [tf.Tensor3D, tf.Tensor3D];
        const g = dy as tf.Tensor3D;
        // Y = X·Bop: dX = dY·Bopᵀ; dB = Xᵀ·dY, or (Xᵀ·dY)ᵀ = dYᵀ·X when B was given transposed.
        const dx = bmmRaw(g, sy, false, !transposeB);
        const dyGrad = transposeB ? bmmRaw(g, sx, true, false) : bmmRaw(sx, g, true, false);
        return [dx, dyGrad];
      },
    };
  }) as unknown as CustomGradFn);
  return f(a, b) as tf.Tensor3D;
}

/**
 * Sum of `g` [n, m] over its rows, as gᵀ·1 ([m, 1] → [1, m]). wasm's Sum over a leading axis
 * transposes first (measured CPU time: 27 ms for [12800, 256]); this product runs in the scalar
 * matMul loop (10 ms) and, unlike 1ᵀ·g through XNNPACK (46 ms), packs no fresh weight matrix.
 */
function sumRows(g: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(g, tf.ones([g.shape[0], 1]), true, false).reshape([1, g.shape[1]]);
}

/**
 * x + y where y's shape is a suffix of x's (a bias, a position table): the same value as
 * `tf.add`, with y's gradient summed over the leading axes by `sumRows`.
 */
export function addBroadcast(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((a: tf.Tensor, b: tf.Tensor) => ({
    value: tf.add(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const g = dy as tf.Tensor;
      return [g, sumRows(g.reshape([-1, b.size]) as tf.Tensor2D).reshape(b.shape)];
    },
  })) as unknown as CustomGradFn);
  return f(x, y) as tf.Tensor;
}

/** Dense layer on the last axis: x [..., din] · w [din, dout] + b [dout]. */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const din = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = matmul(x.reshape([-1, din]) as tf.Tensor2D, w);
  if (b) y = addBroadcast(y, b);
  return y.reshape([...lead, w.shape[1]]);
}

/**
 * Layer normalisation over the last axis: (x - mean)·rsqrt(var + eps)·gamma + beta, with the
 * forward kernels of `tf.moments` + the textbook formula, and a hand-written backward
 * (dx = rstd·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)), dx̂ = dy·gamma) that needs about half the kernels
 * of autodiff and sums gamma/beta gradients with `sumRows`.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-12): tf.Tensor {
  const d = x.shape[x.rank - 1]!;
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(xi, -1, true);
    const xc = tf.sub(xi, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, rstd);
    // tf runs the whole forward pass in a tidy: whatever backprop needs must go through `save`.
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const gy = dy as tf.Tensor;
        const dxhat = tf.mul(gy, sg);
        const dx = tf.mul(
          srstd,
          tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), -1, true))),
        );
        const dgamma = sumRows(tf.mul(gy, sxhat).reshape([-1, d]) as tf.Tensor2D).reshape([d]);
        const dbeta = sumRows(gy.reshape([-1, d]) as tf.Tensor2D).reshape([d]);
        return [dx, dgamma, dbeta];
      },
    };
  }) as unknown as CustomGradFn);
  return f(x, gamma, beta) as tf.Tensor;
}

/**
 * The keep-mask multiplier `tf.dropout(x, rate, undefined, seed)` would use for a tensor of
 * `size` elements: 1/keep where kept, 0 where dropped, bit-identical to tf's (same alea stream
 * seeded with String(seed), same float32 rounding of u, u + keep, floor and the division).
 */
export function dropoutMultiplier(size: number, rate: number, seed: number): Float32Array {
  const keep = Math.fround(1 - rate);
  const scale = Math.fround(1 / keep);
  const st = seedrandom.alea(String(seed), { state: true }).state();
  let { s0, s1, s2, c } = st;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    // Baagoe's alea step, exactly as seedrandom's `next`.
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    const u = Math.fround(s2);
    out[i] = Math.fround(u + keep) >= 1 ? scale : 0;
  }
  return out;
}

/** Inverted dropout with a seeded mask; same value as `tf.dropout(x, rate, undefined, seed)`. */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate === 0) return x;
  return tf.mul(x, tf.tensor(dropoutMultiplier(x.size, rate, seed), x.shape));
}

/**
 * log Σⱼ exp(x[i, j]) per row of x [R, C] → [R], with gradient softmax(x) · dy. Computed from the
 * softmax kernel: exp(x − max) sums to 1/p_max, where p_max is the largest softmax entry, so
 * lse = max − log p_max (agrees with `tf.logSumExp` to ~2e-7 relative).
 */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  const [R] = x.shape;
  const f = tf.customGrad(((v: tf.Tensor, save: tf.GradSaveFunc) => {
    const p = tf.softmax(v, -1);
    save([p]);
    return {
      value: tf.sub(tf.max(v, -1), tf.log(tf.max(p, -1))),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul((dy as tf.Tensor).reshape([R, 1]), saved[0]!)],
    };
  }) as unknown as CustomGradFn);
  return f(x) as tf.Tensor1D;
}

/**
 * log Σⱼ exp(h_i · t_j) for every row h_i of `h` [R, d] against every row t_j of `table` [V, d]
 * → [R], without ever holding the [R, V] scores: they are computed `chunkRows` rows at a time in
 * the forward pass and again in the backward pass (∂/∂h_i = Σⱼ p_ij t_j, ∂/∂t_j = Σᵢ p_ij h_i with
 * p = softmax of the row's scores). A full-softmax loss over Beauty's 12,103 items for a
 * 12,800-position batch would otherwise keep several 620 MB tensors alive at once and overflow
 * the 4 GB wasm heap; the recomputation costs one extra [R, d]·[d, V] product.
 */
export function logSumExpScores(h: tf.Tensor2D, table: tf.Tensor2D, chunkRows = 1024): tf.Tensor1D {
  const [R, d] = h.shape;
  const chunks = Array.from({ length: Math.ceil(R / chunkRows) }, (_, k) => [k * chunkRows, Math.min(chunkRows, R - k * chunkRows)] as const);
  const f = tf.customGrad(((hv: tf.Tensor, tv: tf.Tensor, save: tf.GradSaveFunc) => {
    const tT = tf.transpose(tv as tf.Tensor2D); // [d V]
    const lse = tf.concat(chunks.map(([from, n]) => tf.tidy(() => logSumExpRows(tf.matMul(tf.slice(hv, [from, 0], [n, d]) as tf.Tensor2D, tT)))), 0);
    save([hv, tv]);
    return {
      value: lse,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sh, st] = saved as [tf.Tensor2D, tf.Tensor2D];
        const stT = tf.transpose(st); // [d V]
        let dTableT: tf.Tensor = tf.zeros(stT.shape); // [d V]
        const dh: tf.Tensor[] = [];
        for (const [from, n] of chunks) {
          const [dhc, next] = tf.tidy(() => {
            const hc = tf.slice(sh, [from, 0], [n, d]) as tf.Tensor2D; // [n d]
            const scores = tf.matMul(hc, stT); // [n V]
            // softmax(scores) = exp(scores − lse), through the fast softmax kernel.
            const g = tf.mul(tf.softmax(scores, -1), tf.slice(dy as tf.Tensor, [from], [n]).reshape([n, 1])); // [n V]
            return [tf.matMul(g, st), tf.add(dTableT, tf.matMul(tf.transpose(hc), g))]; // [n d], [d V]
          });
          dTableT.dispose();
          dTableT = next!;
          dh.push(dhc!);
        }
        return [tf.concat(dh, 0), tf.transpose(dTableT)];
      },
    };
  }) as unknown as CustomGradFn);
  return f(h, table) as tf.Tensor1D;
}

/**
 * GELU, sigmoid approximation x·σ(1.702x) (Hendrycks & Gimpel 2016). The tanh form needs `pow`
 * and `tanh`, both slow kernels on wasm (measured 3x the cost of a dense layer of the same size).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(1.702, x)));
}

/**
 * Weighted bags of embedding rows: out[r] = Σ_p weights[r·P + p] · table[ids[r·P + p]] for a
 * [rows, P] layout of host ids and weights (0-weight slots are padding) → [rows, d]. Same value as
 * `embeddingLookupHost` followed by a weighted sum over P, computed on the host from `hostTable`
 * (the caller's exact copy of the table), with the gradient scatter-added on the host into a dense
 * [V, d] tensor. Measured on wasm for 32 utterances × ~300 hashed n-grams: the tensor route
 * (upload the [rows, P, d] rows, multiply, sum over the middle axis, scatterND) cost several times
 * the ~0.3 M multiply-adds it stands for.
 */
export function embeddingBagHost(table: tf.Tensor2D, hostTable: Float32Array, ids: Int32Array, weights: Float32Array, rows: number): tf.Tensor2D {
  const [V, d] = table.shape;
  if (hostTable.length !== V * d) {
    throw new Error(`embeddingBagHost: \`hostTable\` has ${hostTable.length} floats, the table [${V}, ${d}] needs ${V * d}`);
  }
  if (ids.length !== weights.length || ids.length % rows !== 0) {
    throw new Error(`embeddingBagHost: \`ids\` (${ids.length}) and \`weights\` (${weights.length}) must both hold rows (${rows}) × P entries`);
  }
  const P = ids.length / rows;
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let p = 0; p < P; p++) {
      const w = weights[r * P + p]!;
      if (w === 0) continue;
      const id = ids[r * P + p]!;
      if (!(id >= 0 && id < V)) throw new RangeError(`embeddingBagHost: id ${id} outside the table's ${V} rows`);
      const s = id * d;
      for (let k = 0; k < d; k++) out[o + k] += w * hostTable[s + k]!;
    }
  }
  const bag = tf.customGrad(((_t: tf.Tensor) => ({
    value: tf.tensor2d(out, [rows, d]),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const g = (dy as tf.Tensor).dataSync();
      const grad = new Float32Array(V * d);
      for (let r = 0; r < rows; r++) {
        for (let p = 0; p < P; p++) {
          const w = weights[r * P + p]!;
          if (w === 0) continue;
          const s = ids[r * P + p]! * d;
          for (let k = 0; k < d; k++) grad[s + k] += w * g[r * d + k]!;
        }
      }
      return [tf.tensor2d(grad, [V, d])];
    },
  })) as unknown as CustomGradFn);
  return bag(table) as tf.Tensor2D;
}
