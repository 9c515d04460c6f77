import type { ByteSource } from './byte-source.js';
import { DEFAULT_MAX_RECORD_BYTES, type TextPosition } from './types.js';

/** Finds where records end in a byte stream; keeps its own state across chunks. */
export interface BoundaryScanner {
  /** Index just past the end of the record running in `buf` from `from`, or -1 if it runs past `buf`. */
  scan(buf: Buffer, from: number): number;
  /** Called after each complete record, and to start over between records after a resynchronisation. */
  reset(): void;
  /** Whether the bytes scanned so far end inside a quoted field or string. */
  inQuotes(): boolean;
}

export interface RawRecord {
  /** The record's bytes, terminator included; for a record too long, the start of its first line. */
  bytes: Buffer;
  /** 1-based line on which the record starts. */
  line: number;
  /** Byte offset just after the record. */
  end: number;
  /** Lines fully consumed once this record is read. */
  endLine: number;
  /** False for bytes left at end of file without a terminator. */
  terminated: boolean;
  /** The record ran past `maxRecordBytes`: only the start of its first line is kept in `bytes`. */
  tooLong?: true;
}

export interface RawRecordOptions {
  /** Longest record read; default {@link DEFAULT_MAX_RECORD_BYTES}. */
  maxRecordBytes?: number;
  signal?: AbortSignal;
}

/** How much of a record too long is kept for its dead letter. */
const TOO_LONG_EXCERPT = 64 * 1024;

const LF = 0x0a;

/** A record too long: the start of its first line with content, the blank lines before it, its length. */
interface TooLong {
  excerpt: Buffer;
  blankLines: number;
  length: number;
}

/** Length of the blank space (spaces, tabs, line breaks) `bytes` starts with. */
function blankPrefix(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d || bytes[i] === LF)) i++;
  return i;
}

function countLines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Streams a byte source from a position and yields its records one by one, as the scanner delimits them.
 * Only the current read chunk and the record in progress are held in memory. A UTF-8 BOM at
 * offset 0 is skipped.
 *
 * Broken input cannot swallow what follows it: a record still open after `maxRecordBytes`, or at
 * the end of the file inside a quote, is cut after its first line (yielded as its own record,
 * flagged `tooLong` in the first case) and scanning starts over on the next line. A single line
 * longer than the limit is skipped up to its line feed, keeping only its start.
 */
export async function* rawRecords(
  source: ByteSource,
  scanner: BoundaryScanner,
  from: TextPosition,
  options: RawRecordOptions = {},
): AsyncGenerator<RawRecord> {
  const { signal } = options;
  const maxBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  let offset = from.offset;
  let line = from.line;
  let atFileStart = from.offset === 0;
  /** The record in progress, and its length. */
  const pieces: Buffer[] = [];
  let pending = 0;
  /** A line too long being skipped. */
  let skipping: TooLong | undefined;

  const record = (bytes: Buffer, terminated: boolean): RawRecord => {
    const lines = countLines(bytes);
    const raw = { bytes, line: line + 1, end: offset + bytes.length, endLine: line + lines, terminated };
    offset = raw.end;
    line = raw.endLine;
    return raw;
  };
  const tooLong = ({ excerpt, blankLines, length }: TooLong, terminated: boolean): RawRecord => {
    const raw: RawRecord = {
      bytes: excerpt,
      line: line + 1 + blankLines,
      end: offset + length,
      endLine: line + blankLines + (terminated ? 1 : 0),
      terminated,
      tooLong: true,
    };
    offset = raw.end;
    line = raw.endLine;
    return raw;
  };
  const takePending = (rest?: Buffer): Buffer => {
    const bytes = Buffer.concat(rest ? [...pieces, rest] : pieces);
    pieces.length = 0;
    pending = 0;
    return bytes;
  };

  /** Yields the records that end in `buf`, keeping what runs past it for the next call. */
  function* feed(buf: Buffer): Generator<RawRecord> {
    let i = 0;
    if (skipping) {
      const lf = buf.indexOf(LF);
      if (lf < 0) {
        skipping.length += buf.length;
        return;
      }
      skipping.length += lf + 1;
      yield tooLong(skipping, true);
      skipping = undefined;
      i = lf + 1;
    }
    while (i < buf.length) {
      const end = scanner.scan(buf, i);
      const stop = end < 0 ? buf.length : end;
      if (pending + stop - i > maxBytes) {
        const open = takePending(buf.subarray(i));
        scanner.reset();
        const start = blankPrefix(open);
        const lf = open.indexOf(LF, start);
        const cut: TooLong = {
          excerpt: Buffer.from(open.subarray(start, Math.min(lf < 0 ? open.length : lf + 1, start + TOO_LONG_EXCERPT))),
          blankLines: countLines(open.subarray(0, start)),
          length: lf < 0 ? open.length : lf + 1,
        };
        if (lf < 0) {
          skipping = cut;
          return;
        }
        yield tooLong(cut, true);
        buf = open;
        i = lf + 1;
        continue;
      }
      if (end < 0) {
        pieces.push(buf.subarray(i));
        pending += buf.length - i;
        return;
      }
      const part = buf.subarray(i, end);
      const bytes = pieces.length > 0 ? takePending(part) : part;
      scanner.reset();
      yield record(bytes, true);
      i = end;
    }
  }

  /** What is left at the end of the file: a last record without terminator, or a quote never closed. */
  function* atEndOfFile(): Generator<RawRecord> {
    for (;;) {
      if (skipping) yield tooLong(skipping, false);
      skipping = undefined;
      if (pieces.length === 0) return;
      const rest = takePending();
      const lf = rest.indexOf(LF, blankPrefix(rest));
      if (!scanner.inQuotes() || lf < 0 || lf === rest.length - 1) {
        yield record(rest, false);
        return;
      }
      // A quote never closed: its first line is the bad record, the lines after it are read anew.
      scanner.reset();
      yield record(rest.subarray(0, lf + 1), false);
      yield* feed(rest.subarray(lf + 1));
    }
  }

  // Leaving the loop early (abort, or the consumer stopping) ends the source's stream.
  for await (const bytes of source.open(from.offset)) {
    const chunk = asBuffer(bytes);
    let buf = chunk;
    if (atFileStart) {
      atFileStart = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        buf = chunk.subarray(3);
        offset = 3;
      }
    }
    for (const raw of feed(buf)) {
      if (signal?.aborted) return;
      yield raw;
    }
  }
  if (signal?.aborted) return;
  yield* atEndOfFile();
}

/** The scanners work on Buffers; a source may hand out plain Uint8Arrays (a view, not a copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Records end at each LF: NDJSON. */
export function lineScanner(): BoundaryScanner {
  return {
    scan: (buf, from) => {
      const i = buf.indexOf(LF, from);
      return i < 0 ? -1 : i + 1;
    },
    reset: () => {},
    inQuotes: () => false,
  };
}

/** The record's text without its line terminator (LF or CRLF). */
export function recordText(raw: RawRecord): string {
  let end = raw.bytes.length;
  if (raw.bytes[end - 1] === LF) end--;
  if (raw.bytes[end - 1] === 0x0d) end--;
  return raw.bytes.toString('utf8', 0, end);
}
