/**
 * Adam (Kingma & Ba 2015) over a named set of tf variables, with exactly restorable state.
 *
 * Why not `tf.train.adam`: its `setWeights` recomputes β^t with `pow`, while training multiplies
 * β into an accumulator step by step; the two differ in the last bits, so a restored run would
 * drift from an uninterrupted one. Here the bias correction is computed in float64 from the step
 * count, and the moments are plain variables we can copy and assign.
 */
import * as tf from "@tensorflow/tfjs";

export interface AdamConfig {
  /** Default 1e-3. */
  learningRate: number;
  /** Default 0.9. */
  beta1: number;
  /** Default 0.999. */
  beta2: number;
  /** Default 1e-8. */
  epsilon: number;
}

export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export class Adam {
  readonly config: AdamConfig;
  private step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(private readonly vars: Map<string, tf.Variable>, config: Partial<AdamConfig> = {}) {
    this.config = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...config };
    for (const [name, w] of vars) {
      this.m.set(name, tf.variable(tf.zerosLike(w), false));
      this.v.set(name, tf.variable(tf.zerosLike(w), false));
    }
  }

  /** Minimise the scalar returned by `f` (built inside; its tensors are freed). Returns the loss value. */
  minimize(f: () => tf.Scalar): number {
    const varList = [...this.vars.values()];
    const { value, grads } = tf.variableGrads(f, varList);
    this.applyGradients(varList.map((v) => grads[v.name]));
    const loss = value.dataSync()[0]!;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    return loss;
  }

  /**
   * One Adam step from gradients given in the variables' order (`undefined` = no gradient for
   * that variable this step). The caller keeps ownership of the gradient tensors.
   */
  applyGradients(grads: readonly (tf.Tensor | undefined)[]): void {
    const { beta1, beta2, epsilon, learningRate } = this.config;
    const names = [...this.vars.keys()];
    if (grads.length !== names.length) throw new Error(`Adam.applyGradients: ${grads.length} gradients for ${names.length} variables`);
    this.step++;
    const lrT = (learningRate * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    tf.tidy(() => {
      // One float32 scalar per constant and step, not one per use: the same values tf would make
      // from the numbers, without ~6 scalar uploads per variable (dispatch dominates on wasm).
      const [b1, ob1, b2, ob2, eps, lr] = [beta1, 1 - beta1, beta2, 1 - beta2, epsilon, lrT].map((x) => tf.scalar(x));
      names.forEach((name, i) => {
        const g = grads[i];
        if (!g) return;
        const w = this.vars.get(name)!;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const mNew = tf.add(tf.mul(m, b1!), tf.mul(g, ob1!));
        const vNew = tf.add(tf.mul(v, b2!), tf.mul(tf.square(g), ob2!));
        m.assign(mNew);
        v.assign(vNew);
        w.assign(tf.sub(w, tf.mul(lr!, tf.div(mNew, tf.add(tf.sqrt(vNew), eps!)))));
      });
    });
  }

  getState(): AdamState {
    const dump = (mp: Map<string, tf.Variable>) =>
      Object.fromEntries([...mp].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  setState(s: AdamState): void {
    this.step = s.step;
    for (const [mp, src] of [[this.m, s.m], [this.v, s.v]] as const) {
      for (const [k, t] of mp) {
        const data = src[k];
        if (!data) throw new Error(`Adam.setState: slot \`${k}\` missing from the state`);
        t.assign(tf.tensor(data, t.shape));
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
