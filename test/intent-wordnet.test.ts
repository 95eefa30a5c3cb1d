import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../src/core/rng.ts";
import { createWordNetSynonymOp, Lexicon, loadServiceLexicon, STOP_WORDS, WordNet } from "../src/augment/text/index.ts";
import { loadIntentCsv } from "../src/data/intents.ts";

const wordnet = new WordNet();
const op = createWordNetSynonymOp({ wordnet });
const QUERIES = loadIntentCsv("envs/data/hint3/sofmattress_train.csv").texts.slice(0, 120);

test("WordNet reader: most frequently tagged sense, base forms via detachment rules, compounds", () => {
  assert.ok(wordnet.synonyms("buy").includes("purchase"));
  assert.deepEqual(wordnet.synonyms("buys"), wordnet.synonyms("buy"));
  assert.ok(wordnet.synonyms("quickly").includes("rapidly"));
  assert.ok(wordnet.synonyms("credit card").includes("charge card"));
  // "cancel" as a noun is a music sign ("natural"): never the most tagged sense.
  assert.ok(!wordnet.synonyms("cancel").includes("natural"));
  assert.ok(wordnet.synonyms("cancel").includes("call off"));
  assert.deepEqual(wordnet.synonyms("xqzt"), []);
  assert.ok(!wordnet.synonyms("big").includes("big"));
  const more = new WordNet({ senses: 3 });
  assert.ok(more.synonyms("need").length >= wordnet.synonyms("need").length);
  assert.throws(() => new WordNet({ senses: 0 }), /`senses` must be an integer >= 1, got 0/);
});

test("wordnet-synonym: magnitude 0 is the identity; same rng state, same output; another seed differs", () => {
  assert.deepEqual(op.apply(QUERIES, 0, new Rng(1)), QUERIES);
  const a = op.apply(QUERIES, 0.5, new Rng(9, "augment"));
  assert.deepEqual(a, op.apply(QUERIES, 0.5, new Rng(9, "augment")));
  assert.notDeepEqual(a, op.apply(QUERIES, 0.5, new Rng(10, "augment")));
  assert.ok(a.filter((t, i) => t !== QUERIES[i]).length > QUERIES.length / 3, "most queries change at 0.5");
});

test("wordnet-synonym is label-preserving by construction: stop words, negations and numbers stay; only the drawn units change", () => {
  const texts = ["I did not receive my refund", "Why is 2 EMI not available?", "can you cancel my order", "no", "10 days"];
  for (let seed = 0; seed < 30; seed++) {
    const out = op.apply(texts, 1, new Rng(seed));
    for (let i = 0; i < texts.length; i++) {
      const before = texts[i]!.toLowerCase().split(/\s+/);
      const after = out[i]!.toLowerCase();
      for (const w of before) if (STOP_WORDS.has(w.replace(/[?.!,]/g, "")) || /\d/.test(w)) assert.ok(after.includes(w.replace(/[?.!,]/g, "")), `${w} lost in ${out[i]}`);
    }
    assert.equal(out[3], "no");
    assert.ok(out[4]!.startsWith("10 "));
  }
});

test("wordnet-synonym: the domain lexicon wins over WordNet, so shop senses are kept", () => {
  // WordNet's most tagged sense of "order" is the command ("tell", "enjoin"); the service lexicon says "purchase".
  assert.ok(wordnet.synonyms("order").includes("tell"));
  for (let seed = 0; seed < 20; seed++) {
    const [out] = op.apply(["order"], 1, new Rng(seed));
    assert.equal(out, "purchase");
  }
  assert.ok(loadServiceLexicon().synonyms("refund").includes("money back"));
  const custom = createWordNetSynonymOp({ wordnet, lexicon: new Lexicon({ groups: [["mattress", "sleep pad"]] }) });
  assert.equal(custom.apply(["Mattress"], 1, new Rng(1))[0], "Sleep Pad");
});

test("wordnet-synonym: magnitude = fraction of words replaced (expected count grows with it)", () => {
  const changed = (m: number) => {
    let n = 0;
    op.apply(QUERIES, m, new Rng(4)).forEach((t, i) => {
      const a = QUERIES[i]!.split(/\s+/);
      const b = t.split(/\s+/);
      if (a.length === b.length) n += a.filter((w, j) => w !== b[j]).length;
      else n += 1;
    });
    return n;
  };
  const [lo, mid, hi] = [0.1, 0.3, 0.8].map(changed);
  assert.ok(lo! > 0 && lo! < mid! && mid! < hi!, `${lo} ${mid} ${hi}`);
});
