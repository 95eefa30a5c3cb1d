/** The shared shell of every word-level text op: magnitude check, identity at 0, empty texts untouched. */
import type { Rng } from "../../core/rng.ts";
import { checkMagnitude, joinWords, splitWords } from "./words.ts";

/**
 * Rewrite one non-empty text given as words; return `undefined` to keep the original string
 * (so "no edit drawn" returns the input byte for byte, whitespace included).
 */
export type WordEdit = (words: string[], magnitude: number, rng: Rng) => string[] | undefined;

/** Apply `edit` to every text. Magnitude 0 and texts without words are returned unchanged. */
export function mapWords(op: string, texts: readonly string[], magnitude: number, rng: Rng, edit: WordEdit): string[] {
  checkMagnitude(op, magnitude);
  if (magnitude === 0) return texts.slice();
  return texts.map((text) => {
    const words = splitWords(text);
    if (words.length === 0) return text;
    const out = edit(words, magnitude, rng);
    // An edit that would empty a non-empty text is a bug in the op; keep the input valid anyway.
    return out === undefined || out.length === 0 ? text : joinWords(out);
  });
}
