import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadDataset } from "../src/data/load.ts";
import { leaveOneOut } from "../src/data/split.ts";
import { datasetStats, runDataStats } from "../src/data/stats.ts";

const DIR = "envs/data/beauty-1k";
const source = readFileSync(join(DIR, "SOURCE.md"), "utf8");

/** Data rows of the first markdown table after `## heading`'s `afterHeader` header line. */
function tableRow(header: string): string[] {
  const lines = source.split("\n");
  const at = lines.findIndex((l) => l.startsWith(header));
  assert.ok(at >= 0, `SOURCE.md has no table starting "${header}"`);
  return lines[at + 2]!.split("|").slice(1, -1).map((c) => c.trim());
}

test("beauty-1k loads from its directory with titles and attributes", () => {
  const ds = loadDataset({ path: DIR });
  assert.equal(ds.name, "beauty-1k");
  assert.equal(ds.sequences.length, 1000);
  assert.ok(ds.catalogue?.titles && ds.catalogue.attributes);
  assert.equal(ds.catalogue.titles.length, ds.numItems + 1);
  assert.ok(ds.reports.every((r) => r.skipped === 0));
  // every item id 1..numItems occurs (renumbered by first appearance, so no gaps)
  assert.equal(datasetStats(ds).itemsUsed, ds.numItems);
  const split = leaveOneOut(ds);
  assert.equal(split.excludedUsers, 0);
});

test("beauty-1k statistics match its SOURCE.md", () => {
  const s = datasetStats(loadDataset({ path: DIR }));
  const [users, items, inter, mean, median, p90, min, max, density, maxFreq] = tableRow("| users | items | interactions");
  assert.deepEqual(
    [s.users, s.items, s.interactions, s.length.mean.toFixed(4), s.length.median, s.length.p90, s.length.min, s.length.max, `${(s.density * 100).toFixed(4)} %`, s.maxItemFrequency].map(String),
    [users, items, inter, mean, median, p90, min, max, density, maxFreq],
  );
  const [titled, withAttr, numAttr, meanAttr] = tableRow("| titled items");
  const c = s.catalogue!;
  assert.deepEqual([c.titled, c.withAttributes, c.numAttributes, c.meanAttributes.toFixed(4)].map(String), [titled, withAttr, numAttr, meanAttr]);
});

test("beauty-1k files match the sha256 in SOURCE.md", () => {
  const sums = [...source.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)];
  assert.equal(sums.length, 4);
  for (const [, hash, file] of sums) {
    assert.equal(createHash("sha256").update(readFileSync(join(DIR, file!))).digest("hex"), hash, file);
  }
});

test("beauty-1k items map back to the same Beauty titles (spot check via subset_map.json)", () => {
  const map = JSON.parse(readFileSync(join(DIR, "subset_map.json"), "utf8")) as { items: number[] };
  const sub = loadDataset({ path: DIR }).catalogue!.titles!;
  const fullTitles = new Map<number, string>();
  for (const line of readFileSync("envs/data/beauty/beauty_s3rec_item_titles.tsv", "utf8").split("\n").slice(1)) {
    const [id, , title] = line.split("\t");
    if (id) fullTitles.set(Number(id), title ?? "");
  }
  for (const k of [1, 2, 100, sub.length - 1]) assert.equal(sub[k], fullTitles.get(map.items[k - 1]!), `item ${k}`);
});

test("runDataStats prints the stats and returns them", async () => {
  const printed: string[] = [];
  const r = await runDataStats({ path: DIR }, (l) => printed.push(l));
  assert.equal(r.stats.users, 1000);
  assert.match(printed.join("\n"), /users\s+1,000/);
  assert.match(printed.join("\n"), /length histogram\n\s+5-8\s+\d+ #+/);
  const j = await runDataStats({ path: "test/fixtures/data/tiny.txt", json: true }, () => {});
  assert.equal(JSON.parse(j.text).stats.interactions, 15);
});

test("runDataStats reports skipped rows", async () => {
  const r = await runDataStats({ path: "test/fixtures/data/bad.txt", onBadRow: "skip" }, () => {});
  assert.match(r.text, /bad\.txt: skipped 2 of 4 rows \(not-an-integer 1, empty-line 1\)/);
});
