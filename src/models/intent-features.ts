/**
 * Hashed text features for the intent classifier, as in fastText (Joulin et al., "Bag of Tricks
 * for Efficient Text Classification", EACL 2017; Bojanowski et al., "Enriching Word Vectors with
 * Subword Information", TACL 2017): each word contributes its own id and the ids of its character
 * n-grams (with `<` `>` word boundaries); adjacent words contribute a bigram id. Every feature is
 * hashed (FNV-1a, 32 bit) into `buckets` rows of one embedding table, so words never seen in
 * training — typos, augmented synonyms, test queries — still get vectors from their n-grams.
 */

export interface FeatureConfig {
  /** Rows of the hashed embedding table. Default 2^15. */
  buckets: number;
  /** Smallest and largest character n-gram length (0 disables them). Default 3 and 5. */
  minN: number;
  maxN: number;
  /** Add word bigrams. Default true. */
  wordBigrams: boolean;
  /** Words kept per text (the first ones). Default 32. */
  maxWords: number;
}

export const FEATURE_DEFAULTS: FeatureConfig = { buckets: 1 << 15, minN: 3, maxN: 5, wordBigrams: true, maxWords: 32 };

/** FNV-1a over the UTF-16 code units of `s` (stable across platforms and runs). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Lowercased words: runs of letters/digits (apostrophes inside words kept), NFKC-normalised. */
export function tokenize(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

/** Features of one text: per word its ids (word first, then n-grams), plus the bigram ids. */
export interface TextFeatures {
  /** `words[w]` = bucket ids of word w (its own id first). */
  words: Int32Array[];
  /** Bucket ids of adjacent-word bigrams. */
  bigrams: Int32Array;
}

export function textFeatures(text: string, config: FeatureConfig = FEATURE_DEFAULTS): TextFeatures {
  const { buckets, minN, maxN } = config;
  let tokens = tokenize(text).slice(0, config.maxWords);
  // An utterance of only punctuation or emoji ("?", "🙏") still needs one feature to score.
  if (tokens.length === 0) tokens = [text.trim() === "" ? "<empty>" : `<sym>${text.trim()}`];
  const words = tokens.map((w) => {
    const ids = [fnv1a(`w:${w}`) % buckets];
    if (minN > 0) {
      const chars = Array.from(`<${w}>`);
      for (let n = minN; n <= maxN; n++) {
        for (let s = 0; s + n <= chars.length; s++) {
          // The whole "<word>" is already the word feature.
          if (n === chars.length) continue;
          ids.push(fnv1a(`c:${chars.slice(s, s + n).join("")}`) % buckets);
        }
      }
    }
    return Int32Array.from(ids);
  });
  const bigrams: number[] = [];
  if (config.wordBigrams) for (let i = 0; i + 1 < tokens.length; i++) bigrams.push(fnv1a(`b:${tokens[i]} ${tokens[i + 1]}`) % buckets);
  return { words, bigrams: Int32Array.from(bigrams) };
}

/** A memo of `textFeatures` for texts seen again and again (the real train/valid/test rows). */
export class FeatureCache {
  private readonly map = new Map<string, TextFeatures>();
  constructor(readonly config: FeatureConfig = FEATURE_DEFAULTS, private readonly limit = 100_000) {}

  get(text: string): TextFeatures {
    let f = this.map.get(text);
    if (!f) {
      f = textFeatures(text, this.config);
      // Augmented texts are mostly new each time: stop memoising rather than grow without bound.
      if (this.map.size < this.limit) this.map.set(text, f);
    }
    return f;
  }
}
