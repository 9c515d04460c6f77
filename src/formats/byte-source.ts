import { createReadStream, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { SluiceError } from '../core/errors.js';

/** What a byte source holds now: its length, and a token that changes when its content does. */
export interface ByteSourceStat {
  size: number;
  /** An object's ETag; for a local file its modification time and size. */
  version: string;
}

/**
 * The bytes a format reader reads: a local file, an object in a store, or anything else that can be
 * streamed from an offset and read by range. Readers never touch paths, so every format works over
 * every store and resumes by offset. A wrapper can change the bytes on the way (a decompressing one
 * serves `open(offset)` by inflating from the start and skipping `offset` bytes).
 *
 * @example
 * for await (const chunk of readRecords(localFileSource('in.csv'), 'csv')) { ... }
 */
export interface ByteSource {
  /** Shown in errors and dead-letter origins: the path of a file, the URL of an object. */
  readonly name: string;
  /** The first call fixes the version that {@link readRange} reads. */
  stat(): Promise<ByteSourceStat>;
  /** Streams the bytes from `offset` (default 0) to the end. */
  open(offset?: number): AsyncIterable<Uint8Array>;
  /**
   * The `length` bytes at `offset`, fewer only where the source ends. Ranges of two versions never
   * mix: once `stat()` has reported a version, a read of changed content fails (SLUICE_SOURCE_FAILED,
   * not retriable). An object store reads with the ETag as If-Match.
   */
  readRange(offset: number, length: number): Promise<Uint8Array>;
}

const READ_CHUNK = 64 * 1024;

const versionOf = (info: Stats) => `${info.mtimeMs}-${info.size}`;

/** A file on the local file system (a FIFO too, read from the start). */
export function localFileSource(path: string): ByteSource {
  let pinned: string | undefined;
  return {
    name: path,
    async stat() {
      const info = await stat(path);
      pinned ??= versionOf(info);
      return { size: info.size, version: versionOf(info) };
    },
    open(offset = 0) {
      // No `start` at offset 0 so that pipes and FIFOs can be read too.
      return createReadStream(path, offset > 0 ? { start: offset, highWaterMark: READ_CHUNK } : { highWaterMark: READ_CHUNK });
    },
    async readRange(offset, length) {
      const handle = await open(path, 'r');
      try {
        if (pinned !== undefined && versionOf(await handle.stat()) !== pinned) {
          throw new SluiceError('SLUICE_SOURCE_FAILED', `${path} changed while it was being read`, { retriable: false });
        }
        const bytes = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return bytes.subarray(0, done);
      } finally {
        await handle.close();
      }
    },
  };
}

/** The bytes of a source, for formats that parse a document whole. */
export async function readWhole(source: ByteSource): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.open()) chunks.push(chunk);
  return Buffer.concat(chunks);
}
