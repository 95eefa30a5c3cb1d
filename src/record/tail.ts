/**
 * Incremental reader of a growing `.arrows` file (the monitor's "follow a run in progress").
 *
 * Each `poll()` reads only the bytes added since the last whole batch and decodes the new
 * whole batches; a batch still being written is picked up by a later poll. Relies on the
 * recorder's layout (each batch preceded by its own full dictionaries); streams that use
 * delta dictionaries are not supported here (use `readArrowStream`).
 */
import * as fs from "node:fs";
import { batchToRows, decodeStream, type Row } from "./codec.ts";
import { scanFrames } from "./frames.ts";

export class ArrowStreamTail<R = Row> {
  readonly path: string;
  private schemaBytes: Uint8Array | null = null;
  private offset = 0;
  private ended = false;

  constructor(path: string) {
    this.path = path;
  }

  /** True once the end-of-stream marker was read (the writer closed the file). */
  get complete(): boolean {
    return this.ended;
  }

  /** New rows since the last poll (empty when the file is missing or has no new whole batch). */
  poll(): R[] {
    if (this.ended) return [];
    let fd: number;
    try {
      fd = fs.openSync(this.path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) {
        // The file shrank: a resumed run truncated it. Re-read from the start.
        this.offset = 0;
        this.schemaBytes = null;
      }
      if (size === this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      return this.consume(buf);
    } finally {
      fs.closeSync(fd);
    }
  }

  private consume(buf: Uint8Array): R[] {
    const scan = scanFrames(buf);
    const rows: R[] = [];
    let groupStart = 0;
    for (const fr of scan.frames) {
      if (fr.kind === "schema") {
        this.schemaBytes = buf.slice(fr.start, fr.end);
        groupStart = fr.end;
      } else if (fr.kind === "record-batch" && this.schemaBytes) {
        const group = buf.subarray(groupStart, fr.end);
        const bytes = new Uint8Array(this.schemaBytes.length + group.length);
        bytes.set(this.schemaBytes);
        bytes.set(group, this.schemaBytes.length);
        for (const b of decodeStream(bytes).batches) rows.push(...(batchToRows(b) as R[]));
        groupStart = fr.end;
      }
    }
    this.offset += groupStart;
    if (scan.ended && scan.validEnd === groupStart + 8) {
      this.ended = true;
      this.offset += 8;
    }
    return rows;
  }
}
