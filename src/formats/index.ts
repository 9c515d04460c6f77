import { extname } from 'node:path';
import { SluiceError } from '../core/errors.js';
import { localFileSource, type ByteSource } from './byte-source.js';
import { readCsv } from './csv-reader.js';
import { readJsonArray, readNdjson } from './json-reader.js';
import { readParquet } from './parquet-reader.js';
import { readXlsx } from './xlsx-reader.js';
import { readXml } from './xml-reader.js';
import type { FormatName, ReadChunk, ReadOptions } from './types.js';

export { localFileSource, type ByteSource, type ByteSourceStat } from './byte-source.js';
export { csvScanner } from './csv-fields.js';
export { encodeCsv, type CsvWriteOptions } from './encode-csv.js';
export { encodeJsonArray } from './encode-json.js';
export { encodeNdjson } from './encode-ndjson.js';
export { encodeParquet, type ParquetCompression } from './encode-parquet.js';
export {
  FORMATS,
  type CsvReadOptions,
  type FormatName,
  type ReadChunk,
  type ReadOptions,
  type TextPosition,
  type XlsxReadOptions,
  type XmlReadOptions,
} from './types.js';
export type { ParquetPosition } from './parquet-reader.js';
export type { BoundaryScanner } from './raw-records.js';
export type { XlsxPosition } from './xlsx-reader.js';
export type { XmlPosition } from './xml-reader.js';

const BY_EXTENSION: Record<string, FormatName> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.xlsx': 'xlsx',
  '.xml': 'xml',
};

/** The format a file name implies, or undefined. */
export function formatFromPath(path: string): FormatName | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()];
}

/**
 * Streams a byte source (or the local file at a path) as chunks of at most `batchSize` records.
 * Malformed records are not thrown: they come out as the chunk's dead letters (origin file and
 * line, raw text, reason). Each chunk carries the position to pass back as `from` to read what
 * follows it. An empty source yields no chunk.
 *
 * @example
 * for await (const { data, deadLetters, position } of readRecords('in.csv', 'csv', { batchSize: 5000 })) { ... }
 * for await (const chunk of readRecords(objectSource, 'parquet', { from: checkpointed })) { ... }
 */
export function readRecords(input: ByteSource | string, format: FormatName, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  const source = typeof input === 'string' ? localFileSource(input) : input;
  switch (format) {
    case 'ndjson':
      return readNdjson(source, options);
    case 'json':
      return readJsonArray(source, options);
    case 'csv':
      return readCsv(source, options);
    case 'parquet':
      return readParquet(source, options);
    case 'xlsx':
      return readXlsx(source, options);
    case 'xml':
      return readXml(source, options);
    default:
      throw new SluiceError('SLUICE_CONFIG_INVALID', `unknown file format ${JSON.stringify(format)}`);
  }
}
