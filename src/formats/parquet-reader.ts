import { tableFromIPC } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm';
import { SluiceError } from '../core/errors.js';
import type { ByteSource } from './byte-source.js';
import { DEFAULT_BATCH_SIZE, type ReadChunk, type ReadOptions } from './types.js';

/** Where a parquet reader is: the next row group, and rows of it already emitted. */
export interface ParquetPosition {
  row_group: number;
  row: number;
}

function parquetPosition(position: unknown): ParquetPosition {
  if (position === undefined || position === null) return { row_group: 0, row: 0 };
  const p = position as Partial<ParquetPosition>;
  if (typeof p !== 'object' || !Number.isSafeInteger(p.row_group) || p.row_group! < 0 || !Number.isSafeInteger(p.row ?? 0)) {
    throw new SluiceError('SLUICE_SOURCE_FAILED', `not a parquet position: ${JSON.stringify(position)} (expected { row_group, row })`, { retriable: false });
  }
  return { row_group: p.row_group!, row: p.row ?? 0 };
}

/** An ArrayBuffer holding exactly `bytes`, copied only when they are a view into a larger one. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(bytes).buffer;
}

/**
 * `[start, end)` of a byte source as the Blob parquet-wasm reads from: it reads nothing up front and
 * fetches each range it asks for (`slice(a, b).arrayBuffer()`, the only members it uses) by
 * `readRange`, so an object store serves the footer and row groups as ranged GETs.
 */
function rangeBlob(source: ByteSource, start: number, end: number): Blob {
  const blob = {
    size: end - start,
    slice: (from = 0, to = end - start) => rangeBlob(source, start + from, Math.min(start + to, end)),
    arrayBuffer: async () => ownBuffer(await source.readRange(start, end - start)),
  };
  return blob as unknown as Blob;
}

/**
 * Streams parquet row group by row group: only the footer and one row group are read and held in
 * memory, each fetched by range. Row groups larger than `batchSize` come out in several chunks;
 * the position then points inside the row group.
 */
export async function* readParquet(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const from = parquetPosition(options.from);
  const file = await ParquetFile.fromFile(rangeBlob(source, 0, (await source.stat()).size));
  try {
    const metadata = file.metadata();
    const groups = metadata.numRowGroups();
    metadata.free();
    for (let group = from.row_group, skip = from.row; group < groups; group++, skip = 0) {
      if (options.signal?.aborted) return;
      const table = tableFromIPC((await file.read({ rowGroups: [group], batchSize })).intoIPCStream());
      const total = table.numRows;
      let done = 0; // rows of this group emitted or skipped
      for (const batch of table.batches) {
        for (let start = 0; start < batch.numRows; ) {
          if (skip > 0) {
            const n = Math.min(skip, batch.numRows - start);
            skip -= n;
            start += n;
            done += n;
            continue;
          }
          // Slices keep to batchSize even if a reader batch comes out larger.
          const end = Math.min(batch.numRows, start + batchSize);
          const data = batch.slice(start, end);
          done += end - start;
          start = end;
          if (options.signal?.aborted) return;
          yield { data, deadLetters: [], position: done >= total ? { row_group: group + 1, row: 0 } : { row_group: group, row: done } };
        }
      }
    }
  } finally {
    file.free();
  }
}
