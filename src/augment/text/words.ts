/**
 * Word-level helpers shared by the text ops: splitting, joining, magnitude checks and the
 * stochastic rounding that makes "expected amount of change" linear in the magnitude.
 */
import type { Rng } from "../../core/rng.ts";

/** Split on runs of whitespace; empty and whitespace-only texts give `[]`. */
export function splitWords(text: string): string[] {
  const t = text.trim();
  return t === "" ? [] : t.split(/\s+/);
}

/** Join words with single spaces. */
export function joinWords(words: readonly string[]): string {
  return words.join(" ");
}

/** Throw unless `magnitude` is a number in [0, 1]; `op` names the caller in the message. */
export function checkMagnitude(op: string, magnitude: number): void {
  if (!(magnitude >= 0 && magnitude <= 1)) {
    throw new RangeError(`${op}: \`magnitude\` must be in [0, 1], got ${magnitude}; clamp or rescale the action before applying the op`);
  }
}

/**
 * floor(x) plus one more with probability frac(x).
 *
 * Ops turn "magnitude × length" into a whole number of edits this way so that short texts still
 * change at small magnitudes sometimes, and the *expected* number of edits is exactly m × length.
 */
export function stochasticRound(x: number, rng: Rng): number {
  const f = Math.floor(x);
  return f + (rng.bernoulli(x - f) ? 1 : 0);
}

/** `k` distinct indices from [0, n), in increasing order (partial Fisher-Yates). */
export function sampleIndices(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, m).sort((a, b) => a - b);
}

/** Leading/trailing punctuation of a token, kept aside so the core word can be matched and replaced. */
export interface TokenParts {
  prefix: string;
  core: string;
  suffix: string;
}

/** Split `"(Lotion,"` into `{prefix: "(", core: "Lotion", suffix: ","}`. */
export function tokenParts(token: string): TokenParts {
  const m = /^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u.exec(token)!;
  return { prefix: m[1]!, core: m[2]!, suffix: m[3]! };
}

/**
 * Give `replacement` (lowercase, possibly several words) the casing style of `original`:
 * ALL CAPS stays all caps, Title Case becomes title case, anything else stays lowercase.
 * Product titles are title-cased and queries lowercase, so substitutions should not stand out by case.
 */
export function matchCase(original: string, replacement: string): string {
  const letters = original.replace(/[^\p{L}]/gu, "");
  if (letters.length > 1 && letters === letters.toUpperCase()) return replacement.toUpperCase();
  const first = letters.charAt(0);
  if (first !== "" && first === first.toUpperCase() && first !== first.toLowerCase()) {
    return replacement.replace(/(^|\s)(\p{L})/gu, (_m, sp: string, c: string) => sp + c.toUpperCase());
  }
  return replacement;
}
