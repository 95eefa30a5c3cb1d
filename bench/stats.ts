/**
 * Statistics for benchmark tables: paired differences with t-based 95% confidence intervals.
 *
 * Two arms run with the same seeds share batch order, dropout, negatives and initial weights, so
 * the per-seed difference removes most of the run-to-run spread; its mean's interval is
 * mean ± t(0.975, n−1) · sd / √n.
 */
import { mean, sampleStandardDeviation } from "simple-statistics";

/** log Γ(x) (Lanczos approximation, 1e-15 relative on x > 0). */
function logGamma(x: number): number {
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes' betacf). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  const cf = (xx: number, aa: number, bb: number) => {
    const tiny = 1e-300;
    let c = 1;
    let d = 1 - ((aa + bb) * xx) / (aa + 1);
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    let h = d;
    for (let m = 1; m <= 300; m++) {
      const m2 = 2 * m;
      let num = (m * (bb - m) * xx) / ((aa + m2 - 1) * (aa + m2));
      d = 1 + num * d; d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c; c = Math.abs(c) < tiny ? tiny : c;
      h *= d * c;
      num = (-(aa + m) * (aa + bb + m) * xx) / ((aa + m2) * (aa + m2 + 1));
      d = 1 + num * d; d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c; c = Math.abs(c) < tiny ? tiny : c;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-14) break;
    }
    return h;
  };
  return x < (a + 1) / (a + b + 2) ? (front * cf(x, a, b)) / a : 1 - (front * cf(1 - x, b, a)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t (bisection on the CDF; |error| < 1e-10). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`tQuantile: need 0 < p < 1 and df > 0, got p=${p}, df=${df}`);
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(F > f) for Fisher's F with (d1, d2) degrees of freedom. */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (!(d1 > 0 && d2 > 0)) throw new RangeError(`fSurvival: need d1, d2 > 0, got ${d1}, ${d2}`);
  if (!(f > 0)) return 1;
  return incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/**
 * Do arms differ beyond seed noise? A two-way layout without replication: `table[arm][seed]`
 * (every arm ran every seed; seeds are blocks, as in a paired design). Returns the F statistic of
 * the arm effect against the arm × seed residual and its p-value.
 */
export function twoWayArmEffect(table: number[][]): { f: number; df: [number, number]; p: number; armMeans: number[] } {
  const k = table.length;
  const n = table[0]?.length ?? 0;
  if (k < 2 || n < 2 || table.some((r) => r.length !== n)) throw new RangeError(`twoWayArmEffect: need ≥ 2 arms × ≥ 2 seeds, complete, got ${k} × ${n}`);
  const armMeans = table.map((r) => mean(r));
  const seedMeans = Array.from({ length: n }, (_, j) => mean(table.map((r) => r[j]!)));
  const grand = mean(armMeans);
  let ssArm = 0;
  let ssRes = 0;
  table.forEach((r, i) => {
    ssArm += n * (armMeans[i]! - grand) ** 2;
    r.forEach((x, j) => (ssRes += (x - armMeans[i]! - seedMeans[j]! + grand) ** 2));
  });
  const df: [number, number] = [k - 1, (k - 1) * (n - 1)];
  const f = ssRes > 0 ? ssArm / df[0] / (ssRes / df[1]) : ssArm > 0 ? Infinity : 0;
  return { f, df, p: Number.isFinite(f) ? fSurvival(f, df[0], df[1]) : 0, armMeans };
}

/** A paired comparison of arm A against arm B on the seeds both ran. */
export interface PairedDifference {
  /** Seeds in both arms. */
  n: number;
  /** Mean of A − B. */
  mean: number;
  sd: number;
  /** 95% confidence interval of the mean difference (t-based); null below 2 seeds. */
  ci95: [number, number] | null;
  /** Seeds where A was ahead. */
  ahead: number;
  /** Two-sided p-value of the paired t-test; null below 2 seeds. */
  p: number | null;
}

/** Paired difference A − B over the seeds present in both maps (seed → value). */
export function pairedDifference(a: Map<number, number>, b: Map<number, number>): PairedDifference {
  const d: number[] = [];
  for (const [seed, v] of a) if (b.has(seed)) d.push(v - b.get(seed)!);
  const n = d.length;
  if (n === 0) return { n: 0, mean: NaN, sd: NaN, ci95: null, ahead: 0, p: null };
  const m = mean(d);
  if (n < 2) return { n, mean: m, sd: NaN, ci95: null, ahead: d.filter((x) => x > 0).length, p: null };
  const sd = sampleStandardDeviation(d);
  const half = (tQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
  const t = sd > 0 ? m / (sd / Math.sqrt(n)) : m === 0 ? 0 : Infinity * Math.sign(m);
  return { n, mean: m, sd, ci95: [m - half, m + half], ahead: d.filter((x) => x > 0).length, p: Number.isFinite(t) ? 2 * (1 - tCdf(Math.abs(t), n - 1)) : 0 };
}

/** `+0.0012 [−0.0003, +0.0027] (5/8 ahead)` */
export function formatPaired(d: PairedDifference, digits = 4): string {
  if (d.n === 0) return "-";
  const s = (x: number) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits);
  return d.ci95 ? `${s(d.mean)} [${s(d.ci95[0])}, ${s(d.ci95[1])}] (${d.ahead}/${d.n} ahead)` : `${s(d.mean)} (1 seed)`;
}
