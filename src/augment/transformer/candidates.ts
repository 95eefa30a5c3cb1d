/**
 * Candidate generation for the transformer ops (the slow part, run once before training).
 *
 * - `mlm-substitute`: mask each word in turn and keep the fill-mask model's top whole-word tokens.
 * - `embed-neighbour`: embed every word and keep the nearest vocabulary terms by cosine similarity.
 * - `back-translate`: translate to a pivot language and back (greedy decoding, deterministic).
 */
import { loadDefaultLexicon } from "../text/lexicon.ts";
import { splitWords, tokenParts } from "../text/words.ts";
import { addCandidate, type CandidateCache, emptyCache, touchText } from "./cache.ts";
import { DEFAULT_EMBED_MODEL, embedTexts, type EmbedOptions, searchTopK } from "./embed.ts";
import { loadPipeline, type ModelLocation } from "./models.ts";

/** Words worth substituting: letters only (apostrophes/hyphens inside allowed), 2+ characters. */
const WORD = /^\p{L}[\p{L}'-]*\p{L}$/u;

function distinct(texts: readonly string[]): string[] {
  return [...new Set(texts)];
}

/** Options of `mlmCandidates`. */
export interface MlmOptions extends ModelLocation {
  /** Fill-mask model id under `modelDir`. Default `Xenova/bert-base-uncased`. */
  model?: string;
  /** Candidates kept per word. Default 5. */
  topK?: number;
  /** Words of context kept on each side of the mask (keeps long titles inside the model's window). Default 8. */
  contextWords?: number;
  /** Only the first `maxWords` words of a text are masked. Default 24. */
  maxWords?: number;
  /** Masked strings per forward pass. Default 64. */
  batchSize?: number;
}
export const DEFAULT_MLM_MODEL = "Xenova/bert-base-uncased";

/** Per-word fill-mask candidates for every distinct text. */
export async function mlmCandidates(texts: readonly string[], options: MlmOptions = {}): Promise<CandidateCache> {
  const model = options.model ?? DEFAULT_MLM_MODEL;
  const topK = options.topK ?? 5;
  const context = options.contextWords ?? 8;
  const maxWords = options.maxWords ?? 24;
  const batchSize = options.batchSize ?? 64;
  const fill = await loadPipeline("mlm-substitute", "fill-mask", model, options);
  const mask = fill.tokenizer.mask_token ?? "[MASK]";
  const cache = emptyCache("mlm-substitute", model);
  const jobs: { text: string; position: number; core: string; masked: string }[] = [];
  for (const text of distinct(texts)) {
    touchText(cache, text);
    const words = splitWords(text);
    for (let i = 0; i < Math.min(words.length, maxWords); i++) {
      const { prefix, core, suffix } = tokenParts(words[i]!);
      if (!WORD.test(core)) continue;
      const window = words.slice(Math.max(0, i - context), i + context + 1);
      window[Math.min(i, context)] = prefix + mask + suffix;
      jobs.push({ text, position: i, core: core.toLowerCase(), masked: window.join(" ") });
    }
  }
  for (let s = 0; s < jobs.length; s += batchSize) {
    const batch = jobs.slice(s, s + batchSize);
    const raw = await fill(batch.map((j) => j.masked), { topk: topK * 3 + 2 });
    // A batch of one returns a flat list; normalise to one list per job.
    const results: { token_str: string; score: number }[][] = batch.length === 1 && !Array.isArray(raw[0]) ? [raw] : raw;
    batch.forEach((job, b) => {
      const seen = new Set<string>([job.core]);
      for (const r of results[b]!) {
        const word = r.token_str.trim().toLowerCase();
        if (!WORD.test(word) || seen.has(word)) continue;
        seen.add(word);
        addCandidate(cache, { text: job.text, position: job.position, candidate: word, score: r.score });
        if (seen.size > topK) break;
      }
    });
  }
  return cache;
}

/** Options of `embedNeighbourCandidates`. */
export interface EmbedNeighbourOptions extends EmbedOptions {
  /**
   * Terms a word may be replaced by. Default: the single-word terms of the shipped lexicon plus
   * every word of the texts (so titles can borrow catalogue vocabulary).
   */
  vocabulary?: readonly string[];
  /** Neighbours kept per word. Default 5. */
  topK?: number;
  /** Neighbours less similar than this are dropped. Default 0. */
  minSimilarity?: number;
}

/** Per-word nearest vocabulary terms by embedding cosine similarity. */
export async function embedNeighbourCandidates(texts: readonly string[], options: EmbedNeighbourOptions = {}): Promise<CandidateCache> {
  const topK = options.topK ?? 5;
  const minSimilarity = options.minSimilarity ?? 0;
  const cache = emptyCache("embed-neighbour", options.model ?? DEFAULT_EMBED_MODEL);
  const textWords = new Set<string>();
  const unique = distinct(texts);
  for (const text of unique) {
    for (const w of splitWords(text)) {
      const core = tokenParts(w).core.toLowerCase();
      if (WORD.test(core)) textWords.add(core);
    }
  }
  const vocabulary = options.vocabulary
    ? distinct(options.vocabulary.map((v) => v.trim().toLowerCase()).filter((v) => v !== ""))
    : distinct([...loadDefaultLexicon().terms().filter((t) => WORD.test(t)), ...textWords]);
  const queries = [...textWords];
  const keyVectors = await embedTexts(vocabulary, options);
  const vocabIndex = new Map(vocabulary.map((v, i) => [v, i]));
  // Words already in the vocabulary reuse its vectors; only the rest are embedded again.
  const extra = queries.filter((q) => !vocabIndex.has(q));
  const extraVectors = await embedTexts(extra, options);
  const extraIndex = new Map(extra.map((q, i) => [q, i]));
  const queryVectors = queries.map((q) => (vocabIndex.has(q) ? keyVectors[vocabIndex.get(q)!]! : extraVectors[extraIndex.get(q)!]!));
  const near = searchTopK(queryVectors, keyVectors, topK, (qi, kj) => vocabulary[kj] === queries[qi]);
  const byWord = new Map<string, { candidate: string; score: number }[]>();
  queries.forEach((q, qi) => {
    const list: { candidate: string; score: number }[] = [];
    near.index[qi]!.forEach((kj, r) => {
      const score = near.similarity[qi]![r]!;
      if (score >= minSimilarity) list.push({ candidate: vocabulary[kj]!, score });
    });
    byWord.set(q, list);
  });
  for (const text of unique) {
    touchText(cache, text);
    splitWords(text).forEach((w, position) => {
      const list = byWord.get(tokenParts(w).core.toLowerCase());
      for (const c of list ?? []) addCandidate(cache, { text, position, ...c });
    });
  }
  return cache;
}

/** A pair of translation models: source → pivot language and pivot → source. */
export interface Pivot {
  forward: string;
  backward: string;
}

/** Options of `backTranslateCandidates`. */
export interface BackTranslateOptions extends ModelLocation {
  /** Pivot model pairs; each gives at most one paraphrase per text. Default: English↔German Opus-MT. */
  pivots?: readonly Pivot[];
  /** Generation budget per translation. Default 48 tokens. */
  maxNewTokens?: number;
  /** Texts per pipeline call. Default 16. */
  batchSize?: number;
}
export const DEFAULT_PIVOTS: readonly Pivot[] = [{ forward: "Xenova/opus-mt-en-de", backward: "Xenova/opus-mt-de-en" }];

/** Whole-text paraphrases by round-trip translation through each pivot. */
export async function backTranslateCandidates(texts: readonly string[], options: BackTranslateOptions = {}): Promise<CandidateCache> {
  const pivots = options.pivots ?? DEFAULT_PIVOTS;
  if (pivots.length === 0) throw new RangeError("back-translate: `pivots` is empty; pass at least one {forward, backward} model pair");
  const maxNewTokens = options.maxNewTokens ?? 48;
  const batchSize = options.batchSize ?? 16;
  const cache = emptyCache("back-translate", pivots.map((p) => `${p.forward}+${p.backward}`).join(","));
  const unique = distinct(texts).filter((t) => t.trim() !== "");
  for (const text of distinct(texts)) touchText(cache, text);
  const translate = async (model: string, inputs: string[]): Promise<string[]> => {
    const pipe = await loadPipeline("back-translate", "translation", model, options);
    const out: string[] = [];
    for (let s = 0; s < inputs.length; s += batchSize) {
      const batch = inputs.slice(s, s + batchSize);
      const res: { translation_text: string }[] = await pipe(batch, { max_new_tokens: maxNewTokens });
      for (const r of res) out.push(r.translation_text.trim());
    }
    return out;
  };
  for (const [p, pivot] of pivots.entries()) {
    const there = await translate(pivot.forward, unique);
    const back = await translate(pivot.backward, there);
    unique.forEach((text, i) => {
      const para = back[i]!.replace(/\s+/g, " ");
      const known = cache.entries.get(text)!.whole.some((c) => c.candidate === para);
      if (para !== "" && para.toLowerCase() !== text.trim().toLowerCase() && !known) {
        addCandidate(cache, { text, position: -1, candidate: para, score: 1 / (p + 1) });
      }
    });
  }
  return cache;
}
