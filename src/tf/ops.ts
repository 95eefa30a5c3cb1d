/**
 * Small tf building blocks with gradients that run well on the wasm and cpu backends.
 *
 * Why custom gradients (measured, see DESIGN.md):
 * - `tf.gather`'s gradient uses UnsortedSegmentSum, which wasm lacks and which is very slow on
 *   cpu for a 12k-row table; `embeddingLookup` uses `scatterND` (sums duplicate rows) instead.
 * - Autodiff of `matMul(a, b)` produces transposed matMuls that take a slow path on wasm;
 *   `matmul` transposes explicitly and then runs plain matMuls in both directions.
 */
import * as tf from "@tensorflow/tfjs";

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
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (lookup(table) as tf.Tensor).reshape([...ids.shape, d]);
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
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(a, b) as tf.Tensor<R>;
}

/** Dense layer on the last axis: x [..., din] · w [din, dout] + b [dout]. */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const din = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = matmul(x.reshape([-1, din]) as tf.Tensor2D, w);
  if (b) y = tf.add(y, b);
  return y.reshape([...lead, w.shape[1]]);
}

/** Layer normalisation over the last axis. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-12): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/**
 * GELU, sigmoid approximation x·σ(1.702x) (Hendrycks & Gimpel 2016). The tanh form needs `pow`
 * and `tanh`, both slow kernels on wasm (measured 3x the cost of a dense layer of the same size).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(1.702, x)));
}
