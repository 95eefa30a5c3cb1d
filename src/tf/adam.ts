/**
 * Adam (Kingma & Ba 2015) over a named set of tf variables, with exactly restorable state.
 *
 * Why not `tf.train.adam`: its `setWeights` recomputes β^t with `pow`, while training multiplies
 * β into an accumulator step by step; the two differ in the last bits, so a restored run would
 * drift from an uninterrupted one. Here the bias correction is computed in float64 from the step
 * count, and the moments are plain arrays we can copy and assign.
 *
 * Why the update runs in JS: on wasm the per-variable kernels (~12 per variable, 37 variables
 * for SASRec) cost more in dispatch than in arithmetic. The update replays the float32 kernel
 * sequence exactly (every intermediate rounded with `Math.fround`, same operation order), so it
 * is bit-identical to the tensor version it replaced; and it leaves a host copy of every weight,
 * which models use to skip GatherV2 (`hostValue`).
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
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  /** Host copy of every variable, kept equal to the device value. */
  private readonly host = new Map<string, Float32Array>();

  constructor(private readonly vars: Map<string, tf.Variable>, config: Partial<AdamConfig> = {}) {
    this.config = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...config };
    for (const [name, w] of vars) {
      this.m.set(name, new Float32Array(w.size));
      this.v.set(name, new Float32Array(w.size));
    }
    this.syncFromDevice();
  }

  /**
   * Current value of variable `name` as a host array (do not mutate; it is replaced, not
   * rewritten, by the next update, so a reference stays a consistent snapshot).
   */
  hostValue(name: string): Float32Array {
    const h = this.host.get(name);
    if (!h) throw new Error(`Adam.hostValue: unknown variable \`${name}\``);
    return h;
  }

  /** Re-read every variable's value; call after assigning variables from outside. */
  syncFromDevice(): void {
    for (const [name, w] of this.vars) this.host.set(name, (w.dataSync() as Float32Array).slice());
  }

  /** Minimise the scalar returned by `f` (built inside; its tensors are freed). Returns the loss value. */
  minimize(f: () => tf.Scalar): number {
    const names = [...this.vars.keys()];
    const varList = names.map((n) => this.vars.get(n)!);
    const { value, grads } = tf.variableGrads(f, varList);
    this.step++;
    // Constants as the tensor version saw them: float32 scalars.
    const b1 = Math.fround(this.config.beta1);
    const b2 = Math.fround(this.config.beta2);
    const ob1 = Math.fround(1 - this.config.beta1);
    const ob2 = Math.fround(1 - this.config.beta2);
    const eps = Math.fround(this.config.epsilon);
    const lrT = Math.fround((this.config.learningRate * Math.sqrt(1 - this.config.beta2 ** this.step)) / (1 - this.config.beta1 ** this.step));
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const gT = grads[varList[i]!.name];
      if (!gT) continue;
      const p = this.host.get(name)!.slice();
      adamUpdate(p, gT.dataSync() as Float32Array, this.m.get(name)!, this.v.get(name)!, b1, b2, ob1, ob2, eps, lrT);
      this.host.set(name, p);
      // The device gets its own copy: the cpu backend would otherwise alias our array.
      const t = tf.tensor(p.slice(), varList[i]!.shape);
      varList[i]!.assign(t);
      t.dispose();
    }
    const loss = value.dataSync()[0]!;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    return loss;
  }

  getState(): AdamState {
    const dump = (mp: Map<string, Float32Array>) => Object.fromEntries([...mp].map(([k, a]) => [k, a.slice()]));
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  /** Restore moments and step; also re-reads the variables, which the caller may have just assigned. */
  setState(s: AdamState): void {
    this.step = s.step;
    for (const [mp, src] of [[this.m, s.m], [this.v, s.v]] as const) {
      for (const [k, a] of mp) {
        const data = src[k];
        if (!data) throw new Error(`Adam.setState: slot \`${k}\` missing from the state`);
        if (data.length !== a.length) throw new Error(`Adam.setState: slot \`${k}\` has ${data.length} values, expected ${a.length}`);
        a.set(data);
      }
    }
    this.syncFromDevice();
  }

  dispose(): void {
    this.m.clear();
    this.v.clear();
    this.host.clear();
  }
}

/**
 * In-place Adam update of p, m, v from gradient g, every intermediate rounded to float32 in the
 * order the tensor kernels used: m·β1 + g·(1-β1); v·β2 + g²·(1-β2); p - lr·(m / (√v + ε)).
 * `Math.fround` is called directly (not through an alias) so V8 compiles it to float32 ops.
 */
function adamUpdate(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  b1: number, b2: number, ob1: number, ob2: number, eps: number, lr: number,
): void {
  const n = p.length;
  for (let j = 0; j < n; j++) {
    const gj = g[j]!;
    const mj = Math.fround(Math.fround(m[j]! * b1) + Math.fround(gj * ob1));
    const vj = Math.fround(Math.fround(v[j]! * b2) + Math.fround(Math.fround(gj * gj) * ob2));
    m[j] = mj;
    v[j] = vj;
    p[j] = Math.fround(p[j]! - Math.fround(lr * Math.fround(mj / Math.fround(Math.fround(Math.sqrt(vj)) + eps))));
  }
}
