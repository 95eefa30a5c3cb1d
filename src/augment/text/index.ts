/**
 * Text augmentation ops (EDA-style) for queries and product titles.
 *
 * | op | magnitude m means |
 * |---|---|
 * | `synonym` | probability each lexicon term is replaced by a synonym |
 * | `word-delete` | fraction of the words (all but one) deleted |
 * | `word-swap` | swaps per word |
 * | `word-insert` | inserted words per word (1 doubles the length) |
 * | `typo` | fraction of letters with a keyboard typo (1 → 20 %) |
 * | `split-recombine` | fraction of word boundaries cut before reordering the parts |
 * | `pad-truncate` | words dropped from the end or filler words appended, per word |
 * | `wordnet-synonym` | fraction of the words replaced by WordNet / customer-service synonyms |
 *
 * Every op: magnitude 0 returns the texts unchanged, a non-empty text never becomes empty,
 * output depends only on (texts, magnitude, rng state).
 */
import type { TextOp } from "../types.ts";
import { createWordDeleteOp, createWordInsertOp, createWordSwapOp } from "./eda.ts";
import { createPadTruncateOp, createSplitRecombineOp } from "./restructure.ts";
import { createSynonymOp } from "./synonym.ts";
import { createTypoOp } from "./typo.ts";
import { createWordNetSynonymOp } from "./wordnet-synonym.ts";

export { createSynonymOp, type SynonymOptions } from "./synonym.ts";
export { createWordDeleteOp, createWordInsertOp, createWordSwapOp, type WordInsertOptions } from "./eda.ts";
export { createTypoOp, QWERTY_NEIGHBOURS, type TypoOptions } from "./typo.ts";
export { createPadTruncateOp, createSplitRecombineOp, type PadTruncateOptions } from "./restructure.ts";
export { Lexicon, loadDefaultLexicon, loadLexicon, type LexiconJson, type LexiconMatch } from "./lexicon.ts";
export { splitWords, joinWords } from "./words.ts";
export { createWordNetSynonymOp, loadServiceLexicon, STOP_WORDS, type WordNetSynonymOptions } from "./wordnet-synonym.ts";
export { WordNet, defaultWordNet, wordnetDictDir, type WordNetOptions } from "./wordnet.ts";

/** The text ops with default options, in registry order. */
export const textOps: TextOp[] = [
  createSynonymOp(),
  createWordDeleteOp(),
  createWordSwapOp(),
  createWordInsertOp(),
  createTypoOp(),
  createSplitRecombineOp(),
  createPadTruncateOp(),
  createWordNetSynonymOp(),
];
