import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Lexicon, loadDefaultLexicon, loadLexicon } from "../src/augment/text/index.ts";

test("shipped lexicon has a few hundred e-commerce groups", () => {
  const lex = loadDefaultLexicon();
  assert.ok(lex.groupCount >= 300, `groups: ${lex.groupCount}`);
  assert.ok(lex.size >= 1000, `terms: ${lex.size}`);
  for (const [a, b] of [
    ["sneakers", "trainers"],
    ["lipstick", "lip color"],
    ["moisturizer", "moisturiser"],
    ["moisturizer", "lotion"],
    ["sofa", "couch"],
    ["nail polish", "nail varnish"],
  ] as const) {
    assert.ok(lex.synonyms(a).includes(b), `${a} → ${b}`);
    assert.ok(lex.synonyms(b).includes(a), `${b} → ${a}`);
  }
  for (const t of lex.terms()) {
    assert.equal(t, t.toLowerCase().trim());
    assert.ok(!lex.synonyms(t).includes(t), `${t} lists itself`);
  }
  assert.ok(lex.fillers.length > 5);
});

test("match prefers the longest phrase", () => {
  const lex = new Lexicon({ groups: [["lip", "mouth"], ["lip gloss", "lip shine"]] });
  assert.deepEqual(lex.match(["Lip", "Gloss", "red"], 0), { length: 2, alternatives: ["lip shine"] });
  assert.deepEqual(lex.match(["lip", "balm"], 0), { length: 1, alternatives: ["mouth"] });
  assert.equal(lex.match(["red"], 0), undefined);
});

test("bad lexicons fail naming the key and the fix", () => {
  assert.throws(() => new Lexicon({ groups: [["only"]] }), /`groups\[0\]`.*at least 2/);
  const dir = mkdtempSync(join(tmpdir(), "augrl-lex-"));
  try {
    writeFileSync(join(dir, "bad.json"), "{not json");
    assert.throws(() => loadLexicon(join(dir, "bad.json")), /`path`.*bad\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
