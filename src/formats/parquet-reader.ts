import { tableFromIPC } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm';
import { SluiceError } from '../core/errors.js';
import type { ByteSource } from './byte-source.js';
import { ParquetRanges } from './parquet-ranges.js';
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
    throw new SluiceError('SLUICE_SOURCE_FAILED', `not a parquet position: ${JSON.stringify(position)} (expected { row_group, row })`, {
      retriable: false,
    });
  }
  return { row_group: p.row_group!, row: p.row ?? 0 };
}

/**
 * Streams parquet row group by row group: only the footer and one row group are read and held in
 * memory, each fetched by range. Row groups larger than `batchSize` come out in several chunks;
 * the position then points inside the row group.
 */
export async function* readParquet(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const from = parquetPosition(options.from);
  const ranges = new ParquetRanges(source);
  const file = await ranges.guard(ParquetFile.fromFile(ranges.blob((await source.stat()).size)));
  try {
    const metadata = file.metadata();
    const groups = metadata.numRowGroups();
    metadata.free();
    for (let group = from.row_group, skip = from.row; group < groups; group++, skip = 0) {
      if (options.signal?.aborted) return;
      const table = tableFromIPC((await ranges.guard(file.read({ rowGroups: [group], batchSize }))).intoIPCStream());
      const total = table.numRows;
      let done = 0; // rows of this group emitted or skipped
      for (const batch of table.batches) {
        for (let start = 0; start < batch.numRows;) {
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
    // A failed read leaves parquet-wasm inside a call on the file: freeing it under that call would trap.
    if (!ranges.failed) file.free();
  }
}
