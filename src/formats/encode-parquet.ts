import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';

export type ParquetCompression = 'snappy' | 'zstd' | 'uncompressed';

const CODECS: Record<ParquetCompression, Compression> = {
  snappy: Compression.SNAPPY,
  zstd: Compression.ZSTD,
  uncompressed: Compression.UNCOMPRESSED,
};

/** A complete parquet file holding the batch (handed to parquet-wasm as Arrow IPC). */
export function encodeParquet(batch: RecordBatch, options: { compression?: ParquetCompression; rowGroupSize?: number } = {}): Uint8Array {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(new Table(batch), 'stream'));
  let builder = new WriterPropertiesBuilder().setCompression(CODECS[options.compression ?? 'snappy']);
  if (options.rowGroupSize) builder = builder.setMaxRowGroupSize(options.rowGroupSize);
  return writeParquet(wasmTable, builder.build());
}
