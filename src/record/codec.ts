/**
 * Schema-driven conversion between plain row objects and Arrow record batches / IPC bytes.
 *
 * Rows are objects keyed by column name. Lists and fixed-size lists come back as `number[]` /
 * `string[]` (not Arrow vectors) so rows are JSON-ready for the monitor.
 */
import {
  DataType,
  type Field,
  makeData,
  RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  type Schema,
  Struct,
  Type,
  vectorFromArray,
} from "apache-arrow";
import { END_OF_STREAM, scanFrames } from "./frames.ts";

/** A row as stored: column name → value. */
export type Row = Record<string, unknown>;

/** Throws a message naming the column, the row and the fix when `row` does not fit `schema`. */
export function validateRow(schema: Schema, row: Row, where: string): void {
  for (const field of schema.fields) {
    const v = row[field.name];
    if (v === null || v === undefined) {
      if (!field.nullable) {
        throw new TypeError(`${where}: column \`${field.name}\` is not nullable, got ${v}; give a value (see docs/arrow-schema.md)`);
      }
      continue;
    }
    const t = field.type;
    if (DataType.isInt(t) || DataType.isFloat(t)) {
      if (typeof v !== "number") throw new TypeError(`${where}: column \`${field.name}\` must be a number, got ${describe(v)}`);
      if (DataType.isInt(t) && !Number.isInteger(v)) {
        throw new TypeError(`${where}: column \`${field.name}\` must be an integer, got ${v}`);
      }
    } else if (DataType.isUtf8(t) || DataType.isDictionary(t)) {
      if (typeof v !== "string") throw new TypeError(`${where}: column \`${field.name}\` must be a string, got ${describe(v)}`);
    } else if (DataType.isFixedSizeList(t)) {
      const len = (v as ArrayLike<unknown>).length;
      if (len !== t.listSize) {
        throw new TypeError(
          `${where}: column \`${field.name}\` must have length ${t.listSize} (the file's observation dim), got ${len ?? describe(v)}`,
        );
      }
    } else if (DataType.isList(t)) {
      if (typeof (v as ArrayLike<unknown>).length !== "number") {
        throw new TypeError(`${where}: column \`${field.name}\` must be an array, got ${describe(v)}`);
      }
    }
  }
}

function describe(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
}

function columnValues(field: Field, rows: readonly Row[]): unknown[] {
  const isList = DataType.isList(field.type) || DataType.isFixedSizeList(field.type);
  return rows.map((r) => {
    const v = r[field.name];
    if (v === undefined || v === null) return null;
    // Builders take plain arrays reliably; typed arrays (observations) are copied once here.
    return isList && !Array.isArray(v) ? Array.from(v as ArrayLike<unknown>) : v;
  });
}

/** Build one record batch of `rows` (already validated) in `schema`. */
export function rowsToBatch(schema: Schema, rows: readonly Row[]): RecordBatch {
  const children = schema.fields.map((field) => vectorFromArray(columnValues(field, rows), field.type).data[0]!);
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/**
 * IPC stream bytes of one batch: its dictionary messages then the record batch message, with
 * the schema message in front when `withSchema`, never an end-of-stream marker. Each batch
 * carries its own full dictionaries, so any prefix of whole batches is a valid stream.
 */
export function encodeBatch(batch: RecordBatch, withSchema: boolean): Uint8Array {
  const bytes = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  const { frames } = scanFrames(bytes);
  const start = withSchema ? 0 : frames[0]!.end;
  return bytes.slice(start, frames[frames.length - 1]!.end);
}

/** Decode a stream prefix that ends on a message boundary (no end marker needed). */
export function decodeStream(bytes: Uint8Array): { schema: Schema; batches: RecordBatch[] } {
  const withEnd = new Uint8Array(bytes.length + END_OF_STREAM.length);
  withEnd.set(bytes);
  withEnd.set(END_OF_STREAM, bytes.length);
  const reader = RecordBatchReader.from(withEnd);
  reader.open();
  // Read the schema before iterating: a drained reader resets it.
  const schema = reader.schema;
  const batches = [...reader];
  return { schema, batches };
}

/** Plain rows of a batch (lists as arrays, dictionaries as strings, nulls as null). */
export function batchToRows(batch: RecordBatch): Row[] {
  const cols = batch.schema.fields.map((field, j) => {
    const vec = batch.getChildAt(j)!;
    const listy = field.type.typeId === Type.List || field.type.typeId === Type.FixedSizeList;
    return { name: field.name, vec, listy };
  });
  const rows: Row[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    const row: Row = {};
    for (const c of cols) {
      const v = c.vec.get(i);
      row[c.name] = v === null || v === undefined ? null : c.listy ? Array.from(v.toArray() as ArrayLike<unknown>) : v;
    }
    rows.push(row);
  }
  return rows;
}
