/** `synonym`: replace known terms (single words or phrases) by lexicon synonyms. */
import type { TextOp } from "../types.ts";
import { mapWords } from "./apply.ts";
import { type Lexicon, loadDefaultLexicon } from "./lexicon.ts";
import { matchCase, tokenParts } from "./words.ts";

/** Options of `createSynonymOp`. */
export interface SynonymOptions {
  /** Synonym groups. Default: the lexicon shipped with augrl (`loadDefaultLexicon()`). */
  lexicon?: Lexicon;
}

/**
 * Each term the lexicon knows is replaced, with probability = magnitude, by one of its synonyms
 * (uniformly). Phrases match longest-first ("lip gloss" before "lip"); punctuation around the
 * phrase and its casing style (Title Case, ALL CAPS) are kept.
 */
export function createSynonymOp(options: SynonymOptions = {}): TextOp {
  const lexicon = options.lexicon ?? loadDefaultLexicon();
  return {
    name: "synonym",
    family: "text",
    target: "text",
    description: "Replace product terms by synonyms from the e-commerce lexicon (sneakers → trainers, sofa → couch).",
    magnitude: "probability that each lexicon term in the text is replaced",
    reference: "Wei & Zou, EDA: Easy Data Augmentation Techniques, EMNLP 2019 (synonym replacement)",
    apply(texts, magnitude, rng) {
      return mapWords("synonym", texts, magnitude, rng, (words) => {
        const parts = words.map(tokenParts);
        const cores = parts.map((p) => p.core);
        const out: string[] = [];
        let changed = false;
        for (let i = 0; i < words.length; ) {
          const hit = cores[i] === "" ? undefined : lexicon.match(cores, i);
          if (hit && rng.bernoulli(magnitude)) {
            const first = parts[i]!;
            const last = parts[i + hit.length - 1]!;
            const original = cores.slice(i, i + hit.length).join(" ");
            out.push(first.prefix + matchCase(original, rng.pick(hit.alternatives)) + last.suffix);
            changed = true;
            i += hit.length;
          } else {
            out.push(words[i]!);
            i += 1;
          }
        }
        return changed ? out : undefined;
      });
    },
  };
}
