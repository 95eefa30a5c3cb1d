/** The word-level EDA ops: `word-delete`, `word-swap`, `word-insert`. */
import type { TextOp } from "../types.ts";
import { mapWords } from "./apply.ts";
import { type Lexicon, loadDefaultLexicon } from "./lexicon.ts";
import { matchCase, sampleIndices, stochasticRound, tokenParts } from "./words.ts";

const EDA = "Wei & Zou, EDA: Easy Data Augmentation Techniques, EMNLP 2019";

/**
 * Delete round(m·(n−1)) of the n words (stochastic rounding), chosen uniformly; at m = 1 a single
 * word remains, so the text never becomes empty. One-word texts are unchanged.
 */
export function createWordDeleteOp(): TextOp {
  return {
    name: "word-delete",
    family: "text",
    target: "text",
    description: "Delete randomly chosen words.",
    magnitude: "fraction of the deletable words (all but one) removed",
    reference: `${EDA} (random deletion)`,
    apply(texts, magnitude, rng) {
      return mapWords("word-delete", texts, magnitude, rng, (words) => {
        const k = stochasticRound(magnitude * (words.length - 1), rng);
        if (k === 0) return undefined;
        const drop = new Set(sampleIndices(words.length, k, rng));
        return words.filter((_, i) => !drop.has(i));
      });
    },
  };
}

/** Swap two distinct random positions round(m·n) times; at m = 1 that is n swaps (a near-shuffle). */
export function createWordSwapOp(): TextOp {
  return {
    name: "word-swap",
    family: "text",
    target: "text",
    description: "Swap the positions of random word pairs.",
    magnitude: "number of swaps as a fraction of the word count",
    reference: `${EDA} (random swap)`,
    apply(texts, magnitude, rng) {
      return mapWords("word-swap", texts, magnitude, rng, (words) => {
        if (words.length < 2) return undefined;
        const k = stochasticRound(magnitude * words.length, rng);
        if (k === 0) return undefined;
        const out = words.slice();
        for (let s = 0; s < k; s++) {
          const i = rng.int(out.length);
          const j = (i + 1 + rng.int(out.length - 1)) % out.length;
          const t = out[i]!;
          out[i] = out[j]!;
          out[j] = t;
        }
        return out;
      });
    },
  };
}

/** Options of `createWordInsertOp`. */
export interface WordInsertOptions {
  /** Synonym source and fallback fillers. Default: the shipped lexicon. */
  lexicon?: Lexicon;
}

/**
 * Insert round(m·n) words at random positions. Each inserted word is a synonym of a term in the
 * text (as in EDA); texts without any lexicon term get generic shopping fillers ("new", "set").
 * Length at most doubles.
 */
export function createWordInsertOp(options: WordInsertOptions = {}): TextOp {
  const lexicon = options.lexicon ?? loadDefaultLexicon();
  return {
    name: "word-insert",
    family: "text",
    target: "text",
    description: "Insert synonyms of words in the text (or generic shopping words) at random positions.",
    magnitude: "number of inserted words as a fraction of the word count (1 doubles the length)",
    reference: `${EDA} (random insertion)`,
    apply(texts, magnitude, rng) {
      return mapWords("word-insert", texts, magnitude, rng, (words) => {
        const k = stochasticRound(magnitude * words.length, rng);
        if (k === 0) return undefined;
        const cores = words.map((w) => tokenParts(w).core);
        const pool: string[] = [];
        for (let i = 0; i < cores.length; i++) {
          const hit = lexicon.match(cores, i);
          if (hit) for (const alt of hit.alternatives) pool.push(matchCase(cores[i]!, alt));
        }
        const source = pool.length > 0 ? pool : lexicon.fillers.length > 0 ? lexicon.fillers : words;
        const out = words.slice();
        for (let s = 0; s < k; s++) out.splice(rng.int(out.length + 1), 0, rng.pick(source));
        return out;
      });
    },
  };
}
