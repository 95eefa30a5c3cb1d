/**
 * Derive envs/data/beauty-1k/ from envs/data/beauty/: a small REAL subset for tests and demos.
 *
 * 1. Draw `--users` (default 1,000) of the 22,363 Beauty users without replacement with
 *    `new Rng(seed).child("beauty-1k/users")` (partial Fisher-Yates over user indices), seed 2024.
 * 2. Keep the drawn users in their Beauty.txt line order, renumber them 1..U, and renumber items
 *    1..N in order of first appearance when reading those lines (the S3-Rec convention).
 * 3. Re-index titles and attributes to the new item ids; attribute ids are renumbered 1..A in
 *    order of first appearance over the new items (so embedding tables stay small).
 * 4. Write Beauty.txt, Beauty_item2attributes.json, beauty_s3rec_item_titles.tsv, subset_map.json
 *    (new id → Beauty id) and SOURCE.md with counts, statistics and sha256 of every output.
 *
 * No k-core filter is re-applied: every user keeps its full sequence (>= 5 items), but most items
 * occur only a few times in the subset. Run: node --import tsx scripts/make-subset.ts
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../src/core/rng.ts";
import { loadDataset } from "../src/data/load.ts";
import { datasetStats, type DatasetStats } from "../src/data/stats.ts";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const SRC = args.get("src") ?? "envs/data/beauty";
const OUT = args.get("out") ?? "envs/data/beauty-1k";
const SEED = Number(args.get("seed") ?? 2024);
const USERS = Number(args.get("users") ?? 1000);

const full = loadDataset({ path: SRC });
if (!(Number.isInteger(USERS) && USERS > 0 && USERS <= full.sequences.length)) {
  throw new RangeError(`\`--users\` must be an integer in 1..${full.sequences.length}, got ${args.get("users")}`);
}
const cat = full.catalogue!;

// 1. seeded draw: the first USERS positions of a partial shuffle.
const rng = new Rng(SEED).child("beauty-1k/users");
const idx = Int32Array.from({ length: full.sequences.length }, (_, i) => i);
for (let i = 0; i < USERS; i++) {
  const j = i + rng.int(idx.length - i);
  [idx[i], idx[j]] = [idx[j]!, idx[i]!];
}
const picked = Array.from(idx.subarray(0, USERS)).sort((a, b) => a - b);

// 2. renumber items by first appearance.
const newOfOld = new Int32Array(full.numItems + 1);
const oldOfNew: number[] = [0];
const lines: string[] = [];
picked.forEach((u, k) => {
  const seq = Array.from(full.sequences[u]!, (it) => {
    if (newOfOld[it] === 0) {
      oldOfNew.push(it);
      newOfOld[it] = oldOfNew.length - 1;
    }
    return newOfOld[it]!;
  });
  lines.push(`${k + 1} ${seq.join(" ")}`);
});
const numItems = oldOfNew.length - 1;

// 3. re-index titles and attributes.
const titleRows = ["s3rec_item_id\tasin\ttitle"];
const asins = readAsins(join(SRC, "beauty_s3rec_item_titles.tsv"));
const attrNew = new Map<number, number>();
const attrObj: Record<string, number[]> = {};
for (let n = 1; n <= numItems; n++) {
  const old = oldOfNew[n]!;
  titleRows.push(`${n}\t${asins[old] ?? ""}\t${cat.titles?.[old] ?? ""}`);
  const attrs = cat.attributes?.[old];
  if (attrs && attrs.length > 0) {
    attrObj[String(n)] = Array.from(attrs, (a) => {
      if (!attrNew.has(a)) attrNew.set(a, attrNew.size + 1);
      return attrNew.get(a)!;
    });
  }
}

// 4. write outputs.
mkdirSync(OUT, { recursive: true });
const outputs: Record<string, string> = {
  "Beauty.txt": lines.join("\n") + "\n",
  "Beauty_item2attributes.json": JSON.stringify(attrObj),
  "beauty_s3rec_item_titles.tsv": titleRows.join("\n") + "\n",
  "subset_map.json":
    JSON.stringify({
      note: "index k-1 holds the envs/data/beauty id of subset id k",
      users: picked.map((u) => Number(full.userIds![u])),
      items: oldOfNew.slice(1),
      attributes: [...attrNew.keys()],
    }) + "\n",
};
for (const [f, text] of Object.entries(outputs)) writeFileSync(join(OUT, f), text);

const sub = loadDataset({ path: OUT });
const stats = datasetStats(sub);
const sha = Object.keys(outputs).map((f) => `${createHash("sha256").update(readFileSync(join(OUT, f))).digest("hex")}  ${f}`);
writeFileSync(join(OUT, "SOURCE.md"), sourceMd(stats, sha));
console.log(`wrote ${OUT}: ${stats.users} users, ${stats.items} items, ${stats.interactions} interactions`);

function readAsins(path: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(path, "utf8").split("\n").slice(1)) {
    const [id, asin] = line.split("\t");
    if (id) out[Number(id)] = asin ?? "";
  }
  return out;
}

function sourceMd(s: DatasetStats, sums: string[]): string {
  const c = s.catalogue!;
  const f4 = (x: number) => x.toFixed(4);
  const hist = s.histogram.map((b) => `| ${b.lo === b.hi ? b.lo : `${b.lo}-${b.hi}`} | ${b.count} |`).join("\n");
  return `# Beauty-1k: a seeded 1,000-user subset of the S3-Rec Amazon Beauty data

Small real data for tests and quick demos. Every number below is checked by \`test/data-subset.test.ts\`.

## Upstream
Derived only from the files in \`../beauty/\` (Beauty.txt, Beauty_item2attributes.json, beauty_s3rec_item_titles.tsv);
see [../beauty/SOURCE.md](../beauty/SOURCE.md) for where those came from, their licences and terms (S3-Rec / ICLRec
preprocessing of the McAuley Amazon 2014 Beauty 5-core data; titles from dh-r/LLM-Sequential-Recommendation, BSD-3-Clause).
The same citation requests apply (McAuley et al. SIGIR 2015; He & McAuley WWW 2016; S3-Rec CIKM 2020).

## How it was made
\`node --import tsx scripts/make-subset.ts --seed=${SEED} --users=${USERS}\` (defaults; \`--src=${SRC}\`, \`--out=${OUT}\`):
1. Users: ${USERS} of the ${full.sequences.length.toLocaleString("en-US")} Beauty users drawn without replacement by a partial
   Fisher-Yates shuffle of user indices using \`new Rng(${SEED}).child("beauty-1k/users")\` (src/core/rng.ts, seedrandom alea).
2. The drawn users keep their Beauty.txt order and full sequences and are renumbered 1..${USERS}; items are renumbered
   1..${s.items} in order of first appearance reading those lines. No k-core filter is re-applied, so items are sparse.
3. Titles and ASINs are copied to the new item ids; attributes are re-keyed to the new item ids and attribute ids renumbered
   1..${c.numAttributes} in order of first appearance over the new items.
4. \`subset_map.json\`: \`users[k-1]\`, \`items[k-1]\`, \`attributes[k-1]\` = the envs/data/beauty id of subset id k.

## Format
Same as \`../beauty/\`: \`Beauty.txt\` (\`user item item ...\`, oldest first, LF), \`Beauty_item2attributes.json\`
(\`{"<item_id>": [attr_id, ...]}\`), \`beauty_s3rec_item_titles.tsv\` (header \`s3rec_item_id<TAB>asin<TAB>title\`).
\`rl-train data stats envs/data/beauty-1k\` loads all three.

## Statistics
| users | items | interactions | avg seq len | median | p90 | min | max | density | max item freq |
|---|---|---|---|---|---|---|---|---|---|
| ${s.users} | ${s.items} | ${s.interactions} | ${f4(s.length.mean)} | ${s.length.median} | ${s.length.p90} | ${s.length.min} | ${s.length.max} | ${f4(s.density * 100)} % | ${s.maxItemFrequency} |

| titled items | items with attributes | attribute ids | avg attrs/item |
|---|---|---|---|
| ${c.titled} | ${c.withAttributes} | ${c.numAttributes} | ${f4(c.meanAttributes)} |

Sequence-length histogram:

| length | users |
|---|---|
${hist}

## sha256
\`\`\`
${sums.join("\n")}
\`\`\`
`;
}
