/**
 * Append-only Arrow IPC stream (`.arrows`) writer and crash-tolerant reader.
 *
 * File layout: schema message, then per record batch its dictionary messages and the batch
 * message, and an end-of-stream marker after `close()`. Every batch carries its own full
 * dictionaries, so the file cut after any whole batch is a valid stream; that is what makes
 * crash recovery (`readArrowStream`) and resuming (`open({resumeAtRows})`) simple.
 *
 * Writes are synchronous positional writes of one whole batch: a flushed batch is in the file
 * (and fsynced, by default) before `flush()` returns, and "records are written before they
 * are streamed" holds by construction for hooks that stream after `append`.
 */
import * as fs from "node:fs";
import type { RecordBatch, Schema } from "apache-arrow";
import { batchToRows, decodeStream, encodeBatch, type Row, rowsToBatch, validateRow } from "./codec.ts";
import { END_OF_STREAM, streamLayout } from "./frames.ts";

/** The file operations the recorder needs; injectable so tests can simulate ENOSPC/EACCES. */
export interface FileSink {
  /** Write all of `bytes` at `position` (may throw after a partial write). */
  write(bytes: Uint8Array, position: number): void;
  truncate(length: number): void;
  sync(): void;
  close(): void;
}

/** A `FileSink` on a real file. `mode` "create" truncates or creates; "open" keeps the content. */
export function nodeFileSink(path: string, mode: "create" | "open"): FileSink {
  const fd = fs.openSync(path, mode === "create" ? "w" : "r+");
  return {
    write(bytes, position) {
      let done = 0;
      while (done < bytes.length) {
        done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
      }
    },
    truncate: (length) => fs.ftruncateSync(fd, length),
    sync: () => fs.fsyncSync(fd),
    close: () => fs.closeSync(fd),
  };
}

/** Options of `ArrowStreamRecorder`. */
export interface RecorderOptions {
  /** Rows buffered before a record batch is written. Default 64. */
  rowsPerBatch?: number;
  /** fsync after every batch so a power loss keeps it too. Default true. */
  fsync?: boolean;
  /** File operations; default: the real file at `path`. */
  sink?: FileSink;
  /**
   * What a user should do after a failed write, ending the error message (e.g. the CLI's
   * `rl-train resume <run>`). Default: how to retry with this class's API.
   */
  advice?: string;
}

/** Options of `ArrowStreamRecorder.open`. */
export interface OpenOptions extends RecorderOptions {
  /**
   * Keep only the first n rows and continue after them (resume a run from a checkpoint taken
   * at row n). Default: keep every whole batch.
   */
  resumeAtRows?: number;
}

/** A write that failed; the file still holds `rowsOnDisk` rows in whole batches. */
export class RecordWriteError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly rowsOnDisk: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RecordWriteError";
  }
}

/**
 * One `.arrows` file being written. `append` buffers; every `rowsPerBatch` rows (and on
 * `flush`/`close`) one record batch is written.
 */
export class ArrowStreamRecorder<R extends object = Row> {
  readonly path: string;
  readonly schema: Schema;
  readonly rowsPerBatch: number;
  private readonly sink: FileSink;
  private readonly fsync: boolean;
  private readonly advice: string | undefined;
  private pending: R[] = [];
  /** Byte offset where the next batch goes (end of the last whole batch). */
  private offset: number;
  private rowsWritten: number;
  private closed = false;

  private constructor(path: string, schema: Schema, sink: FileSink, offset: number, rowsWritten: number, opts: RecorderOptions) {
    const rowsPerBatch = opts.rowsPerBatch ?? 64;
    if (!Number.isInteger(rowsPerBatch) || rowsPerBatch < 1) {
      throw new RangeError(`ArrowStreamRecorder: \`rowsPerBatch\` must be an integer >= 1, got ${rowsPerBatch}`);
    }
    this.path = path;
    this.schema = schema;
    this.sink = sink;
    this.fsync = opts.fsync ?? true;
    this.advice = opts.advice;
    this.rowsPerBatch = rowsPerBatch;
    this.offset = offset;
    this.rowsWritten = rowsWritten;
  }

  /** Create (or overwrite) `path` and write the schema message. */
  static create<R extends object = Row>(path: string, schema: Schema, opts: RecorderOptions = {}): ArrowStreamRecorder<R> {
    const sink = opts.sink ?? openSink(path, "create");
    const header = encodeBatch(rowsToBatch(schema, []), true);
    // The schema frame alone: drop the empty batch that `encodeBatch` needed to get one.
    const schemaEnd = streamLayout(header).schema!.end;
    const rec = new ArrowStreamRecorder<R>(path, schema, sink, 0, 0, opts);
    rec.writeAt(header.subarray(0, schemaEnd), 0, 0);
    rec.offset = schemaEnd;
    return rec;
  }

  /**
   * Reopen an existing file to append: drop any partial tail (crash mid-write) and the
   * end-of-stream marker, or with `resumeAtRows: n` keep exactly the first n rows.
   */
  static open<R extends object = Row>(path: string, opts: OpenOptions = {}): ArrowStreamRecorder<R> {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(path);
    } catch (err) {
      throw new Error(`ArrowStreamRecorder.open: cannot read \`${path}\` (${(err as NodeJS.ErrnoException).code}); use ArrowStreamRecorder.create for a new file`, { cause: err });
    }
    const layout = streamLayout(bytes);
    if (!layout.schema) {
      throw new Error(`ArrowStreamRecorder.open: \`${path}\` does not start with an Arrow IPC stream schema; it is not a .arrows log (recreate it with ArrowStreamRecorder.create)`);
    }
    const total = layout.groups.reduce((s, g) => s + g.rows, 0);
    const n = opts.resumeAtRows ?? total;
    if (!Number.isInteger(n) || n < 0 || n > total) {
      throw new RangeError(
        `ArrowStreamRecorder.open: \`resumeAtRows\` must be an integer in [0, ${total}] for \`${path}\` (it holds ${total} rows in whole batches), got ${opts.resumeAtRows}`,
      );
    }
    // Keep whole batches up to n rows; the batch that straddles n is rewritten cut at n.
    let keptRows = 0;
    let cut = layout.schema.end;
    let straddle: { start: number; end: number } | null = null;
    for (const g of layout.groups) {
      if (keptRows + g.rows <= n) {
        keptRows += g.rows;
        cut = g.end;
      } else {
        if (keptRows < n) straddle = g;
        break;
      }
    }
    const { schema } = decodeStream(bytes.subarray(0, layout.schema.end));
    let headRows: Row[] = [];
    if (straddle) {
      const { batches } = decodeStream(concat(bytes.subarray(0, layout.schema.end), bytes.subarray(straddle.start, straddle.end)));
      headRows = batchToRows(batches[0]!).slice(0, n - keptRows);
    }
    const sink = opts.sink ?? openSink(path, "open");
    sink.truncate(cut);
    const rec = new ArrowStreamRecorder<R>(path, schema, sink, cut, keptRows, opts);
    if (headRows.length) rec.writeRows(headRows);
    return rec;
  }

  /** Rows in the file (whole batches written) plus rows still buffered. */
  get numRows(): number {
    return this.rowsWritten + this.pending.length;
  }

  /** Rows already in the file. */
  get rowsOnDisk(): number {
    return this.rowsWritten;
  }

  /** Buffer one row (validated now, so the error points at the caller); writes a batch when full. */
  append(row: R): void {
    if (this.closed) throw new Error(`ArrowStreamRecorder.append: \`${this.path}\` is closed; open it again with ArrowStreamRecorder.open to append`);
    validateRow(this.schema, row as Row, `ArrowStreamRecorder.append (\`${this.path}\`, row ${this.numRows})`);
    this.pending.push(row);
    if (this.pending.length >= this.rowsPerBatch) this.flush();
  }

  /** Write buffered rows as one record batch (no-op when none). On failure the rows stay buffered. */
  flush(): void {
    if (this.pending.length === 0) return;
    this.writeRows(this.pending as Row[]);
    this.pending = [];
  }

  /** Flush, write the end-of-stream marker and close the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.writeAt(END_OF_STREAM, this.offset, this.rowsWritten);
    this.closed = true;
    this.sink.close();
  }

  private writeRows(rows: Row[]): void {
    const bytes = encodeBatch(rowsToBatch(this.schema, rows), false);
    this.writeAt(bytes, this.offset, this.rowsWritten);
    this.offset += bytes.length;
    this.rowsWritten += rows.length;
  }

  private writeAt(bytes: Uint8Array, position: number, rowsOnDisk: number): void {
    try {
      this.sink.write(bytes, position);
      if (this.fsync) this.sink.sync();
    } catch (err) {
      // Cut any partial write so the file ends on a whole batch again; the reader would skip
      // a partial tail anyway, but a clean end lets `open` append without surprises.
      try {
        this.sink.truncate(position);
      } catch {
        /* the reader still tolerates the partial tail */
      }
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new RecordWriteError(
        `writing ${bytes.length} bytes to \`${this.path}\` failed (${code}); ` +
          `the file keeps its first ${rowsOnDisk} rows in whole batches. ` +
          (this.advice ??
            `Free disk space or fix permissions, then call flush() again or resume with ArrowStreamRecorder.open(path, {resumeAtRows: ${rowsOnDisk}})`),
        this.path,
        rowsOnDisk,
        { cause: err },
      );
    }
  }
}

function openSink(path: string, mode: "create" | "open"): FileSink {
  try {
    return nodeFileSink(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RecordWriteError(
      `ArrowStreamRecorder: cannot open \`${path}\` for writing (${code}); check that the directory exists and is writable`,
      path,
      0,
      { cause: err },
    );
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What `readArrowStream` found. */
export interface ArrowStreamContents<R = Row> {
  schema: Schema;
  batches: RecordBatch[];
  /** All rows of all whole batches, in order. */
  rows: R[];
  /** True when the file ends with an end-of-stream marker (closed cleanly). */
  complete: boolean;
  /** Bytes after the last whole batch that were ignored (a write cut off by a crash). */
  ignoredBytes: number;
}

/**
 * Read every whole record batch of a `.arrows` file or buffer, even if it was cut off mid-write.
 * Throws only when not even the schema is readable.
 */
export function readArrowStream<R = Row>(pathOrBytes: string | Uint8Array): ArrowStreamContents<R> {
  const bytes = typeof pathOrBytes === "string" ? fs.readFileSync(pathOrBytes) : pathOrBytes;
  const where = typeof pathOrBytes === "string" ? `\`${pathOrBytes}\`` : "buffer";
  const layout = streamLayout(bytes);
  if (!layout.schema) {
    throw new Error(`readArrowStream: ${where} has no complete Arrow IPC stream schema (${bytes.length} bytes); is it a .arrows file?`);
  }
  const { schema, batches } = decodeStream(bytes.subarray(0, layout.appendAt));
  const rows = batches.flatMap((b) => batchToRows(b)) as R[];
  const usedEnd = layout.ended ? layout.appendAt + END_OF_STREAM.length : layout.appendAt;
  return { schema, batches, rows, complete: layout.ended, ignoredBytes: Math.max(0, bytes.length - usedEnd) };
}
