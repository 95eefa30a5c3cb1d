/**
 * A small title representation for the `title-token-*` context ops: each item's title as a list
 * of word ids. Deliberately simple (lower-cased letter/digit runs, first-seen id order): a model
 * that embeds and pools these ids gets title features without a tokenizer model, and the ids are
 * stable for a given catalogue.
 */

/** Vocabulary and per-item token ids. Id 0 is unused (padding), ids 1..size are words, size + 1 is the mask token. */
export interface TitleVocab {
  /** `words[id]`; `words[0]` is "". */
  words: string[];
  /** Number of words (largest id). */
  size: number;
  /** `itemTokens[item]`: token ids of the item's title (empty when unknown). */
  itemTokens: Int32Array[];
}

/** Options of `buildTitleVocab`. */
export interface TitleVocabOptions {
  /** Tokens kept per title (the first ones). Default 16. */
  maxTokens?: number;
}

/** Lower-cased runs of letters/digits. */
export function tokenizeTitle(title: string): string[] {
  return title.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Build the vocabulary from `titles[item]` (index 0 unused), ids in order of first appearance. */
export function buildTitleVocab(titles: readonly string[], opts: TitleVocabOptions = {}): TitleVocab {
  const maxTokens = opts.maxTokens ?? 16;
  if (!(Number.isInteger(maxTokens) && maxTokens > 0)) throw new RangeError(`\`maxTokens\` must be a positive integer, got ${maxTokens}`);
  const ids = new Map<string, number>();
  const words = [""];
  const itemTokens: Int32Array[] = new Array(titles.length);
  for (let it = 0; it < titles.length; it++) {
    const toks = tokenizeTitle(titles[it] ?? "").slice(0, maxTokens);
    const row = new Int32Array(toks.length);
    for (let k = 0; k < toks.length; k++) {
      let id = ids.get(toks[k]!);
      if (id === undefined) {
        id = words.length;
        ids.set(toks[k]!, id);
        words.push(toks[k]!);
      }
      row[k] = id;
    }
    itemTokens[it] = row;
  }
  return { words, size: words.length - 1, itemTokens };
}
