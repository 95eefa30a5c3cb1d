/**
 * The synonym lexicon: hand-written groups of interchangeable e-commerce terms
 * (`lexicon.json`, ~430 groups: beauty, apparel, home, kitchen, electronics, shopping words).
 *
 * E-commerce vocabulary matters more here than literary WordNet senses: "trainers" for
 * "sneakers", "moisturiser" for "moisturizer", "couch" for "sofa". A term that appears in several
 * groups ("purse": handbag and wallet) gets the union of its groups' alternatives.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The JSON layout of a lexicon file. */
export interface LexiconJson {
  description?: string;
  version?: number;
  /** Generic words `pad-truncate` and `word-insert` may add (e.g. "new", "for women"). */
  fillers?: string[];
  /** Each group lists interchangeable lowercase terms; a term may have several words. */
  groups: string[][];
}

/** A phrase match in a word list. */
export interface LexiconMatch {
  /** Number of words the matched phrase spans. */
  length: number;
  /** Other terms that may replace it (never includes the phrase itself). */
  alternatives: readonly string[];
}

/** Phrase → alternatives lookup with longest-match-first phrase matching. */
export class Lexicon {
  readonly fillers: readonly string[];
  readonly groupCount: number;
  /** Longest phrase in words; bounds the lookahead of `match`. */
  readonly maxPhraseWords: number;
  private readonly alternatives = new Map<string, string[]>();

  constructor(json: LexiconJson) {
    if (!Array.isArray(json.groups)) {
      throw new TypeError(`Lexicon: \`groups\` must be an array of string arrays, got ${typeof json.groups}; see src/augment/text/lexicon.json for the layout`);
    }
    let maxWords = 1;
    for (const [gi, group] of json.groups.entries()) {
      const terms = group.map((t) => t.trim().toLowerCase().replace(/\s+/g, " ")).filter((t) => t !== "");
      if (terms.length < 2) {
        throw new RangeError(`Lexicon: \`groups[${gi}]\` needs at least 2 terms, got ${JSON.stringify(group)}; add a synonym or remove the group`);
      }
      for (const term of terms) {
        maxWords = Math.max(maxWords, term.split(" ").length);
        const alts = this.alternatives.get(term) ?? [];
        for (const other of terms) if (other !== term && !alts.includes(other)) alts.push(other);
        this.alternatives.set(term, alts);
      }
    }
    this.maxPhraseWords = maxWords;
    this.groupCount = json.groups.length;
    this.fillers = json.fillers ?? [];
  }

  /** Number of distinct terms. */
  get size(): number {
    return this.alternatives.size;
  }

  /** Alternatives of one lowercase term, or `[]`. */
  synonyms(term: string): readonly string[] {
    return this.alternatives.get(term.toLowerCase()) ?? [];
  }

  /** All terms (lowercase). */
  terms(): string[] {
    return [...this.alternatives.keys()];
  }

  /**
   * Longest phrase starting at `words[start]` that the lexicon knows, comparing lowercase cores
   * (punctuation stripped by the caller); `undefined` if none.
   */
  match(cores: readonly string[], start: number): LexiconMatch | undefined {
    const maxLen = Math.min(this.maxPhraseWords, cores.length - start);
    for (let len = maxLen; len >= 1; len--) {
      const phrase = cores.slice(start, start + len).join(" ").toLowerCase();
      const alts = this.alternatives.get(phrase);
      if (alts) return { length: len, alternatives: alts };
    }
    return undefined;
  }
}

let defaultLexicon: Lexicon | undefined;

/** The lexicon shipped with augrl (`src/augment/text/lexicon.json`), loaded once. */
export function loadDefaultLexicon(): Lexicon {
  if (!defaultLexicon) {
    const path = fileURLToPath(new URL("./lexicon.json", import.meta.url));
    defaultLexicon = new Lexicon(JSON.parse(readFileSync(path, "utf8")) as LexiconJson);
  }
  return defaultLexicon;
}

/** Load a lexicon from a JSON file with the `LexiconJson` layout. */
export function loadLexicon(path: string): Lexicon {
  let json: LexiconJson;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as LexiconJson;
  } catch (e) {
    throw new Error(`loadLexicon: cannot read \`path\` ${path} (${(e as Error).message}); pass a JSON file shaped like src/augment/text/lexicon.json`);
  }
  return new Lexicon(json);
}
