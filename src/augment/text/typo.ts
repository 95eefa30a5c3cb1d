/** `typo`: keyboard typos (QWERTY neighbour substitution/insertion, deletion, transposition). */
import type { Rng } from "../../core/rng.ts";
import type { TextOp } from "../types.ts";
import { checkMagnitude, sampleIndices, stochasticRound } from "./words.ts";

const ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

/**
 * Keys physically next to each key on a US QWERTY keyboard. Rows are staggered by half a key, so
 * the row above contributes columns c and c+1 and the row below c−1 and c.
 */
export const QWERTY_NEIGHBOURS: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  ROWS.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      const near: string[] = [];
      const add = (rr: number, cc: number): void => {
        const ch = ROWS[rr]?.[cc];
        if (ch !== undefined) near.push(ch);
      };
      add(r, c - 1);
      add(r, c + 1);
      add(r - 1, c);
      add(r - 1, c + 1);
      add(r + 1, c - 1);
      add(r + 1, c);
      map.set(row[c]!, near.join(""));
    }
  });
  return map;
})();

/** Options of `createTypoOp`. */
export interface TypoOptions {
  /** Fraction of the letters/digits hit by a typo at magnitude 1. Default 0.2. */
  maxFraction?: number;
}

type TypoKind = "substitute" | "insert" | "delete" | "transpose";
const KINDS: readonly TypoKind[] = ["substitute", "insert", "delete", "transpose"];

function neighbour(ch: string, rng: Rng): string {
  const lower = ch.toLowerCase();
  let near = QWERTY_NEIGHBOURS.get(lower);
  if (!near) return ch;
  // A letter typed as a digit looks like noise, not a typo: letters only get letter neighbours.
  if (/\p{L}/u.test(ch)) near = near.replace(/[0-9]/g, "");
  const out = near[rng.int(near.length)]!;
  return ch !== lower ? out.toUpperCase() : out;
}

/** Apply one typo at `i` (a key character) of `chars`, in place. */
function typoAt(chars: string[], i: number, kind: TypoKind, rng: Rng): void {
  const ch = chars[i]!;
  switch (kind) {
    case "substitute":
      chars[i] = neighbour(ch, rng);
      break;
    case "insert":
      chars.splice(i + 1, 0, neighbour(ch, rng));
      break;
    case "delete":
      // Deleting the only character would empty the text; substitute instead.
      if (chars.length > 1) chars.splice(i, 1);
      else chars[i] = neighbour(ch, rng);
      break;
    case "transpose":
      if (i + 1 < chars.length && chars[i + 1] !== ch && /[\p{L}\p{N}]/u.test(chars[i + 1]!)) {
        chars[i] = chars[i + 1]!;
        chars[i + 1] = ch;
      } else chars[i] = neighbour(ch, rng);
      break;
  }
}

/**
 * round(m · maxFraction · letters) letters/digits get one typo each, the kind drawn uniformly from
 * substitution by a QWERTY neighbour, insertion of a neighbour after it, deletion and swap with
 * the next letter. Edits run right to left so earlier positions stay valid.
 */
export function createTypoOp(options: TypoOptions = {}): TextOp {
  const maxFraction = options.maxFraction ?? 0.2;
  if (!(maxFraction > 0 && maxFraction <= 1)) {
    throw new RangeError(`typo: \`maxFraction\` must be in (0, 1], got ${maxFraction}; 0.2 is the default`);
  }
  return {
    name: "typo",
    family: "text",
    target: "text",
    description: "Introduce keyboard typos: QWERTY-neighbour substitution or insertion, deletion, transposition.",
    magnitude: `fraction of letters with a typo, scaled so 1 means ${maxFraction}`,
    apply(texts, magnitude, rng) {
      checkMagnitude("typo", magnitude);
      if (magnitude === 0) return texts.slice();
      return texts.map((text) => {
        const chars = Array.from(text);
        const keys: number[] = [];
        chars.forEach((c, i) => {
          if (QWERTY_NEIGHBOURS.has(c.toLowerCase())) keys.push(i);
        });
        const k = stochasticRound(magnitude * maxFraction * keys.length, rng);
        if (k === 0) return text;
        const picked = sampleIndices(keys.length, k, rng).map((j) => keys[j]!);
        for (let p = picked.length - 1; p >= 0; p--) typoAt(chars, picked[p]!, rng.pick(KINDS), rng);
        const out = chars.join("");
        return out.trim() === "" ? text : out;
      });
    },
  };
}
