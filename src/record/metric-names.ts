/**
 * Metric names → log column stems, shared by the Arrow schemas and the browser page (so this file
 * imports nothing).
 */

/** Column stem of a metric name: lower case, `@` dropped, other non-alphanumerics as `_` (NDCG@10 → ndcg10). */
export function metricColumn(name: string): string {
  const stem = name.toLowerCase().replace(/@/g, "").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (!stem) throw new RangeError(`metricColumn: metric name ${JSON.stringify(name)} has no letters or digits`);
  return stem;
}
