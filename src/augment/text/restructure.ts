/** Ops that restructure a query: `split-recombine` and `pad-truncate`. */
import type { TextOp } from "../types.ts";
import { mapWords } from "./apply.ts";
import { type Lexicon, loadDefaultLexicon } from "./lexicon.ts";
import { sampleIndices, stochasticRound } from "./words.ts";

/**
 * Cut the query into 1 + round(m·(n−1)) contiguous segments at random word boundaries and put the
 * segments back in a random order other than the original. Queries are bags of facets
 * ("red running shoes women" ~ "women red running shoes"), so facet order is a nuisance variable.
 * At m = 1 every word is its own segment (a full shuffle).
 */
export function createSplitRecombineOp(): TextOp {
  return {
    name: "split-recombine",
    family: "text",
    target: "text",
    description: "Split the query into contiguous parts and recombine them in another order.",
    magnitude: "fraction of word boundaries used as cut points (1 = every word is a part)",
    apply(texts, magnitude, rng) {
      return mapWords("split-recombine", texts, magnitude, rng, (words) => {
        if (words.length < 2) return undefined;
        const cuts = stochasticRound(magnitude * (words.length - 1), rng);
        if (cuts === 0) return undefined;
        const bounds = [0, ...sampleIndices(words.length - 1, cuts, rng).map((g) => g + 1), words.length];
        const parts: string[][] = [];
        for (let s = 0; s + 1 < bounds.length; s++) parts.push(words.slice(bounds[s], bounds[s + 1]));
        const order = rng.shuffle(parts.map((_, i) => i));
        // A shuffle may return the original order; rotate so the op always recombines.
        if (order.every((v, i) => v === i)) order.push(order.shift()!);
        return order.flatMap((i) => parts[i]!);
      });
    },
  };
}

/** Options of `createPadTruncateOp`. */
export interface PadTruncateOptions {
  /** Words appended when padding. Default: the shipped lexicon's fillers ("new", "best", "for women", ...). */
  fillers?: readonly string[];
  /** Lexicon whose fillers are used when `fillers` is not given. Default: the shipped lexicon. */
  lexicon?: Lexicon;
}

/**
 * Change the query length by k = round(m·n) words: with probability ½ drop the last k words
 * (at most n−1, as when a shopper stops typing early), otherwise append k filler words. One-word
 * queries can only be padded.
 */
export function createPadTruncateOp(options: PadTruncateOptions = {}): TextOp {
  const fillers = options.fillers ?? (options.lexicon ?? loadDefaultLexicon()).fillers;
  if (fillers.length === 0 || fillers.some((f) => f.trim() === "")) {
    throw new RangeError(`pad-truncate: \`fillers\` must be non-empty strings, got ${JSON.stringify(fillers)}; pass e.g. ["new", "sale"]`);
  }
  return {
    name: "pad-truncate",
    family: "text",
    target: "text",
    description: "Truncate the query from the end or pad it with generic shopping words.",
    magnitude: "number of words removed or appended, as a fraction of the word count",
    apply(texts, magnitude, rng) {
      return mapWords("pad-truncate", texts, magnitude, rng, (words) => {
        const k = stochasticRound(magnitude * words.length, rng);
        if (k === 0) return undefined;
        const truncate = words.length > 1 && rng.bernoulli(0.5);
        if (truncate) return words.slice(0, Math.max(1, words.length - k));
        const out = words.slice();
        for (let s = 0; s < k; s++) out.push(rng.pick(fillers));
        return out;
      });
    },
  };
}
