/**
 * The transformer text ops. Their `apply` only reads precomputed candidates (see `cache.ts`), so
 * it stays synchronous, fast and a pure function of (texts, magnitude, rng) like every other op.
 * Texts absent from the cache are returned unchanged; `coverage()` reports how many were found.
 */
import type { Rng } from "../../core/rng.ts";
import type { OpInfo, TextOp } from "../types.ts";
import { joinWords, splitWords, checkMagnitude, matchCase, tokenParts } from "../text/words.ts";
import { type CandidateCache, readCandidateCache, writeCandidateCache } from "./cache.ts";
import {
  backTranslateCandidates,
  type BackTranslateOptions,
  embedNeighbourCandidates,
  type EmbedNeighbourOptions,
  mlmCandidates,
  type MlmOptions,
} from "./candidates.ts";

/** Declared metadata of the transformer ops, in registry order. */
export const transformerOpInfos: OpInfo[] = [
  {
    name: "mlm-substitute",
    family: "transformer",
    target: "text",
    description: "Replace words by a masked language model's predictions for that position (fill-mask).",
    magnitude: "probability that each word with cached candidates is replaced",
    reference: "Kobayashi, Contextual Augmentation, NAACL 2018; Wu et al., Conditional BERT Contextual Augmentation, 2019",
  },
  {
    name: "embed-neighbour",
    family: "transformer",
    target: "text",
    description: "Replace words by their nearest vocabulary/catalogue terms in a sentence-embedding space.",
    magnitude: "probability that each word with cached neighbours is replaced",
  },
  {
    name: "back-translate",
    family: "transformer",
    target: "text",
    description: "Replace the text by a paraphrase obtained by translating to a pivot language and back.",
    magnitude: "probability that a text with a cached paraphrase is replaced by it",
    reference: "Sennrich et al., Improving NMT Models with Monolingual Data, ACL 2016; Xie et al., UDA, NeurIPS 2020",
  },
];

/** Names of the transformer ops. */
export type TransformerOpName = "mlm-substitute" | "embed-neighbour" | "back-translate";

/** A transformer op bound to its candidate cache. */
export interface CachedTextOp extends TextOp {
  readonly cache: CandidateCache;
  /** Fraction of `texts` present in the cache (absent texts are never changed). */
  coverage(texts: readonly string[]): number;
}

/** Options of `createTransformerOp` and `precomputeTransformerCache`: where candidates come from, and model settings. */
export interface TransformerOpOptions extends MlmOptions, EmbedNeighbourOptions, BackTranslateOptions {
  /** Arrow cache file: read by `createTransformerOp`, written by `precomputeTransformerCache`. */
  cachePath?: string;
  /** An in-memory cache (e.g. from `computeCandidates`); takes precedence over `cachePath`. */
  cache?: CandidateCache;
  /** Without a cache, candidates for these texts are computed now (loads the model). */
  texts?: readonly string[];
  /** Model id; for `back-translate` use `pivots`. Defaults per op (see `candidates.ts`). */
  model?: string;
}

function info(name: string): OpInfo {
  const i = transformerOpInfos.find((o) => o.name === name);
  if (!i) {
    throw new RangeError(`transformer op: unknown \`name\` ${JSON.stringify(name)}; known: ${transformerOpInfos.map((o) => o.name).join(", ")}`);
  }
  return i;
}

/** Weighted draw of one candidate; non-positive scores (negative cosines) get a tiny weight. */
function draw(list: readonly { candidate: string; score: number }[], rng: Rng): string {
  return list[rng.categorical(list.map((c) => Math.max(c.score, 1e-6)))]!.candidate;
}

/** Bind a transformer op to a cache (synchronous; no model is loaded). */
export function opFromCache(name: string, cache: CandidateCache): CachedTextOp {
  const meta = info(name);
  if (cache.op !== name) {
    throw new Error(`opFromCache: the cache holds candidates of \`${cache.op}\`, not \`${name}\`; precompute one for \`${name}\``);
  }
  const apply = (texts: readonly string[], magnitude: number, rng: Rng): string[] => {
    checkMagnitude(name, magnitude);
    if (magnitude === 0) return texts.slice();
    return texts.map((text) => {
      const entry = cache.entries.get(text);
      if (!entry) return text;
      if (entry.whole.length > 0) return rng.bernoulli(magnitude) ? draw(entry.whole, rng) : text;
      if (entry.words.size === 0) return text;
      const words = splitWords(text);
      let changed = false;
      for (const [position, list] of [...entry.words].sort((a, b) => a[0] - b[0])) {
        if (position >= words.length || list.length === 0 || !rng.bernoulli(magnitude)) continue;
        const { prefix, core, suffix } = tokenParts(words[position]!);
        words[position] = prefix + matchCase(core, draw(list, rng)) + suffix;
        changed = true;
      }
      return changed ? joinWords(words) : text;
    });
  };
  return {
    ...meta,
    target: "text",
    cache,
    apply,
    coverage(texts) {
      if (texts.length === 0) return 1;
      return texts.filter((t) => cache.entries.has(t)).length / texts.length;
    },
  };
}

/** Run the op's model over `texts` and return its candidates in memory. */
export function computeCandidates(texts: readonly string[], name: string, options: TransformerOpOptions = {}): Promise<CandidateCache> {
  info(name);
  switch (name as TransformerOpName) {
    case "mlm-substitute":
      return mlmCandidates(texts, options);
    case "embed-neighbour":
      return embedNeighbourCandidates(texts, options);
    case "back-translate":
      return backTranslateCandidates(texts, options);
  }
}

/** Compute the op's candidates for `texts` and write them to `options.cachePath`; returns that path. */
export async function precomputeTransformerCache(texts: readonly string[], name: string, options: TransformerOpOptions): Promise<string> {
  if (!options.cachePath) {
    throw new Error(`precomputeTransformerCache: \`cachePath\` is required (got ${options.cachePath}); pass e.g. "runs/cache/${name}.arrow"`);
  }
  return writeCandidateCache(options.cachePath, await computeCandidates(texts, name, options));
}

/**
 * A transformer op ready for training: its candidates come from `options.cache`, else the Arrow
 * file `options.cachePath`, else are computed now for `options.texts`.
 */
export async function createTransformerOp(name: string, options: TransformerOpOptions = {}): Promise<CachedTextOp> {
  info(name);
  if (options.cache) return opFromCache(name, options.cache);
  if (options.cachePath) return opFromCache(name, readCandidateCache(options.cachePath, name));
  if (options.texts) return opFromCache(name, await computeCandidates(options.texts, name, options));
  throw new Error(
    `createTransformerOp(\`${name}\`): no candidates: pass \`cachePath\` (written by precomputeTransformerCache), \`cache\`, or \`texts\` to compute them now`,
  );
}
