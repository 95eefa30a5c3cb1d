/**
 * Seeded randomness for a whole run.
 *
 * One root seed per run; every consumer (data shuffling, augmentation, negative sampling,
 * the agent, tf initialisers/dropout) takes its own *named child stream*, so adding draws in
 * one consumer never shifts the numbers another consumer sees. Streams are seedrandom's
 * `alea` generator, whose full state is a small JSON object: a checkpoint stores
 * `rng.state()` and `Rng.restore()` continues the stream exactly.
 *
 * There is no `Math.random` anywhere in augrl; tf ops get integer seeds from `rng.tfSeed()`.
 */
import seedrandom from "seedrandom";

/** Serialisable state of one stream (seedrandom's alea state plus the name and counters). */
export interface RngState {
  name: string;
  seed: string;
  alea: seedrandom.State.Alea;
  tfSeedCounter: number;
}

/** A seeded random stream with named children. */
export class Rng {
  readonly name: string;
  readonly seed: string;
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private tfSeedCounter = 0;

  constructor(seed: number | string, name = "root", aleaState?: seedrandom.State.Alea) {
    this.name = name;
    this.seed = String(seed);
    this.prng = aleaState
      ? seedrandom.alea("", { state: aleaState })
      : seedrandom.alea(`${this.seed}/${name}`, { state: true });
  }

  /** A child stream whose sequence depends only on (root seed, full name), not on draws made so far. */
  child(name: string): Rng {
    return new Rng(this.seed, this.name === "root" ? name : `${this.name}/${name}`);
  }

  /** Uniform float in [0, 1). */
  random(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`Rng.int: \`n\` must be > 0, got ${n}`);
    return Math.floor(this.prng() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.prng() < p;
  }

  /** Standard normal draw (Box-Muller; one value per call keeps the stream simple to replay). */
  normal(mean = 0, std = 1): number {
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Pick one element uniformly. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("Rng.pick: empty array");
    return xs[this.int(xs.length)]!;
  }

  /** Index drawn from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    if (!(total > 0)) throw new RangeError(`Rng.categorical: weights must sum to > 0, got ${total}`);
    let r = this.prng() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** In-place Fisher-Yates shuffle of a slice [from, to) of an array; returns the array. */
  shuffle<T extends { length: number; [i: number]: any }>(xs: T, from = 0, to = xs.length): T {
    for (let i = to - 1; i > from; i--) {
      const j = from + this.int(i - from + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** A fresh integer seed for a tf op (initialiser, dropout, random sampling); deterministic per stream. */
  tfSeed(): number {
    this.tfSeedCounter++;
    return Math.floor(this.prng() * 2 ** 31);
  }

  /** Full state, JSON-serialisable. */
  state(): RngState {
    return { name: this.name, seed: this.seed, alea: this.prng.state(), tfSeedCounter: this.tfSeedCounter };
  }

  /** Rebuild a stream from `state()`; it continues exactly where the saved one was. */
  static restore(s: RngState): Rng {
    const r = new Rng(s.seed, s.name, s.alea);
    r.tfSeedCounter = s.tfSeedCounter;
    return r;
  }
}
