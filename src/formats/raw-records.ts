import { createReadStream } from 'node:fs';
import type { TextPosition } from './types.js';

/** Finds where records end in a byte stream; keeps its own state across chunks. */
export interface BoundaryScanner {
  /** Index just past the end of the record running in `buf` from `from`, or -1 if it runs past `buf`. */
  scan(buf: Buffer, from: number): number;
  /** Called after each complete record. */
  reset(): void;
}

export interface RawRecord {
  /** The record's bytes, terminator included. */
  bytes: Buffer;
  /** 1-based line on which the record starts. */
  line: number;
  /** Byte offset just after the record. */
  end: number;
  /** Lines fully consumed once this record is read. */
  endLine: number;
  /** False for bytes left at end of file without a terminator. */
  terminated: boolean;
}

const LF = 0x0a;
const READ_CHUNK = 64 * 1024;

function countLines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Streams a file from a position and yields its records one by one, as the scanner delimits them.
 * Only the current read chunk and the record in progress are held in memory. A UTF-8 BOM at
 * offset 0 is skipped.
 */
export async function* rawRecords(path: string, scanner: BoundaryScanner, from: TextPosition, signal?: AbortSignal): AsyncGenerator<RawRecord> {
  // No `start` at offset 0 so that pipes and FIFOs can be read too.
  const stream = createReadStream(path, from.offset > 0 ? { start: from.offset, highWaterMark: READ_CHUNK } : { highWaterMark: READ_CHUNK });
  let offset = from.offset;
  let line = from.line;
  let atFileStart = from.offset === 0;
  const pieces: Buffer[] = [];
  const record = (bytes: Buffer, terminated: boolean): RawRecord => {
    const lines = countLines(bytes);
    const raw = { bytes, line: line + 1, end: offset + bytes.length, endLine: line + lines, terminated };
    offset = raw.end;
    line = raw.endLine;
    return raw;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let i = 0;
      if (atFileStart) {
        atFileStart = false;
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          i = 3;
          offset = 3;
        }
      }
      while (i < chunk.length) {
        if (signal?.aborted) return;
        const end = scanner.scan(chunk, i);
        if (end < 0) {
          pieces.push(chunk.subarray(i));
          break;
        }
        const part = chunk.subarray(i, end);
        const bytes = pieces.length > 0 ? Buffer.concat([...pieces, part]) : part;
        pieces.length = 0;
        scanner.reset();
        yield record(bytes, true);
        i = end;
      }
    }
    if (pieces.length > 0 && !signal?.aborted) yield record(Buffer.concat(pieces), false);
  } finally {
    stream.destroy();
  }
}

/** Records end at each LF: NDJSON. */
export function lineScanner(): BoundaryScanner {
  return {
    scan: (buf, from) => {
      const i = buf.indexOf(LF, from);
      return i < 0 ? -1 : i + 1;
    },
    reset: () => {},
  };
}

/** The record's text without its line terminator (LF or CRLF). */
export function recordText(raw: RawRecord): string {
  let end = raw.bytes.length;
  if (raw.bytes[end - 1] === LF) end--;
  if (raw.bytes[end - 1] === 0x0d) end--;
  return raw.bytes.toString('utf8', 0, end);
}
