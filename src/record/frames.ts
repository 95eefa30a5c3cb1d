/**
 * Message framing of the Arrow IPC *stream* format, read without decoding column data.
 *
 * A stream is a sequence of messages, each `0xFFFFFFFF`, int32 metadata length, flatbuffer
 * metadata (padded to 8 bytes), then `bodyLength` body bytes; an int32 0 after the
 * continuation marker ends the stream. Scanning the framing ourselves is what lets a reader
 * keep every whole record batch of a file cut off mid-write, and lets `open({resumeAtRows})`
 * find byte offsets per row count, without trusting a decoder's behaviour on partial input.
 */
import { Message, MessageHeader } from "apache-arrow";

const CONTINUATION = 0xffffffff;

/** One complete message of a stream. */
export interface Frame {
  /** Byte offset of the message start (its continuation marker). */
  start: number;
  /** Byte offset just past its body. */
  end: number;
  kind: "schema" | "dictionary" | "record-batch" | "other";
  /** Rows in a record batch (0 for other kinds). */
  rows: number;
}

/** Result of scanning a byte buffer. */
export interface FrameScan {
  frames: Frame[];
  /** True when an end-of-stream marker was found (at `validEnd - 8`). */
  ended: boolean;
  /** Offset just past the last complete message (or the end-of-stream marker). */
  validEnd: number;
}

/**
 * Scan complete messages from `from` on. Stops silently at the first incomplete or
 * unreadable message (a file cut off mid-write): everything before `validEnd` is whole.
 */
export function scanFrames(buf: Uint8Array, from = 0): FrameScan {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const frames: Frame[] = [];
  let o = from;
  while (o + 8 <= buf.length) {
    if (dv.getUint32(o, true) !== CONTINUATION) break; // pre-0.15 framing is never written by augrl
    const metaLen = dv.getInt32(o + 4, true);
    if (metaLen === 0) return { frames, ended: true, validEnd: o + 8 };
    if (metaLen < 0 || o + 8 + metaLen > buf.length) break;
    let message: Message;
    try {
      message = Message.decode(buf.subarray(o + 8, o + 8 + metaLen));
    } catch {
      break;
    }
    const end = o + 8 + metaLen + message.bodyLength;
    if (end > buf.length) break;
    let kind: Frame["kind"] = "other";
    let rows = 0;
    if (message.headerType === MessageHeader.Schema) kind = "schema";
    else if (message.headerType === MessageHeader.DictionaryBatch) kind = "dictionary";
    else if (message.headerType === MessageHeader.RecordBatch) {
      kind = "record-batch";
      rows = Number((message.header() as { length: number | bigint }).length);
    }
    frames.push({ start: o, end, kind, rows });
    o = end;
  }
  return { frames, ended: false, validEnd: frames.length ? frames[frames.length - 1]!.end : from };
}

/** A record batch together with the messages (dictionaries) written since the previous batch. */
export interface BatchGroup {
  /** Start of the first message of the group (end of the previous batch or of the schema). */
  start: number;
  /** End of the record-batch message. */
  end: number;
  rows: number;
}

/** Schema frame plus the whole batch groups of a scanned stream. */
export interface StreamLayout {
  schema: Frame | null;
  groups: BatchGroup[];
  /** Offset where appending continues: end of the last whole batch (or of the schema). */
  appendAt: number;
  ended: boolean;
}

/** Group the frames of `scanFrames` into schema + record-batch groups. */
export function streamLayout(buf: Uint8Array): StreamLayout {
  const scan = scanFrames(buf);
  const first = scan.frames[0];
  if (!first || first.kind !== "schema") return { schema: null, groups: [], appendAt: 0, ended: false };
  const groups: BatchGroup[] = [];
  let groupStart = first.end;
  for (const fr of scan.frames.slice(1)) {
    if (fr.kind === "record-batch") {
      groups.push({ start: groupStart, end: fr.end, rows: fr.rows });
      groupStart = fr.end;
    }
  }
  const appendAt = groups.length ? groups[groups.length - 1]!.end : first.end;
  return { schema: first, groups, appendAt, ended: scan.ended };
}

/** The 8-byte end-of-stream marker. */
export const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
