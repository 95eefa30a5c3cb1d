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

/** FNV-1a of `prefix` followed by the code units s[from, to) — `fnv1a(prefix + s.slice(from, to))` without the string. */
function fnvRange(prefix: number, s: string, from: number, to: number): number {
  let h = prefix;
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a state after `prefix` (the feature kind tag, e.g. "c:"), to continue with `fnvRange`. */
function fnvPrefix(prefix: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) {
    h ^= prefix.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}
const CHAR_PREFIX = fnvPrefix("c:");

/**
 * Features of one text. Character n-grams run over UTF-16 code units of `<word>` (hashed without
 * building substrings: this runs for every augmented utterance of every step).
 */
export function textFeatures(text: string, config: FeatureConfig = FEATURE_DEFAULTS): TextFeatures {
  const { buckets, minN, maxN } = config;
  let tokens = tokenize(text).slice(0, config.maxWords);
  // An utterance of only punctuation or emoji ("?", "🙏") still needs one feature to score.
  if (tokens.length === 0) tokens = [text.trim() === "" ? "<empty>" : `<sym>${text.trim()}`];
  const words = tokens.map((w) => {
    const marked = `<${w}>`;
    const L = marked.length;
    let count = 1;
    if (minN > 0) for (let n = minN; n <= maxN; n++) if (n < L) count += L - n + 1;
    const ids = new Int32Array(count);
    ids[0] = fnv1a(`w:${w}`) % buckets;
    let o = 1;
    if (minN > 0) {
      for (let n = minN; n <= maxN; n++) {
        // The whole "<word>" is already the word feature.
        if (n >= L) continue;
        for (let s = 0; s + n <= L; s++) ids[o++] = fnvRange(CHAR_PREFIX, marked, s, s + n) % buckets;
      }
    }
    return ids;
  });
  const bigrams = new Int32Array(config.wordBigrams ? Math.max(0, tokens.length - 1) : 0);
  for (let i = 0; i < bigrams.length; i++) bigrams[i] = fnv1a(`b:${tokens[i]} ${tokens[i + 1]}`) % buckets;
  return { words, bigrams };
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
