import type { RecordBatch } from 'apache-arrow';
import type { Position } from '../core/batch.js';
import type { DeadLetter } from '../core/dead-letter.js';

export const FORMATS = ['ndjson', 'json', 'csv', 'parquet', 'xlsx', 'xml'] as const;
export type FormatName = (typeof FORMATS)[number];

/** One chunk a reader emits: good rows, the records it rejected, and where reading can resume. */
export interface ReadChunk {
  data: RecordBatch;
  deadLetters: DeadLetter[];
  /** `{ offset, line }` for text formats, `{ row_group, row }` for parquet, `{ row }` for xlsx, `{ record }` for xml. */
  position: Position;
}

export interface CsvReadOptions {
  /** One ASCII character; default `,`. */
  delimiter?: string;
  /** One ASCII character; default `"`. */
  quote?: string;
  /** Whether the first record names the columns; default true. */
  header?: boolean;
  /** Infer Float64/Int64/Bool/Timestamp columns from a sample; default true (else all Utf8). */
  inferTypes?: boolean;
}

export interface XlsxReadOptions {
  /** The sheet to read: its name, or its index in the file (0 is the first); default the first. */
  sheet?: string | number;
  /** Bytes the worksheets, shared strings and styles read may inflate to in all; default 1 GiB. */
  maxInflatedBytes?: number;
  /** Bytes the shared strings may inflate to (they are held in memory); default 32 MiB. */
  maxSharedStringsBytes?: number;
}

export interface JsonReadOptions {
  /** Deepest nesting of objects and arrays in a record (the record is level 1); default {@link DEFAULT_JSON_MAX_DEPTH}. Deeper records are dead letters. */
  maxDepth?: number;
}

export interface XmlReadOptions {
  /** The element that holds one record; default the repeated child element of the root. */
  recordTag?: string;
  /** Largest file read (the document is parsed whole); default {@link DEFAULT_XML_MAX_BYTES}. */
  maxBytes?: number;
}

export interface ReadOptions {
  /** Rows per chunk at most (good rows plus dead letters); default 10 000. */
  batchSize?: number;
  /** A position from an earlier chunk of the same file: read what follows it. */
  from?: Position;
  csv?: CsvReadOptions;
  json?: JsonReadOptions;
  xlsx?: XlsxReadOptions;
  xml?: XmlReadOptions;
  /** Longest record of a text format (CSV, NDJSON, JSON); default 4 MiB. A longer one is dead-lettered, and reading goes on at its next line. */
  maxRecordBytes?: number;
  /** Records at the file start used to infer the schema of text formats; default 1000. */
  sampleSize?: number;
  /** Named as the dead-letter `node`; default `file`. */
  node?: string;
  /** Stops reading (the iterable just ends) when aborted. */
  signal?: AbortSignal;
}

/** Where a text reader is: byte offset after the last complete record and lines consumed. */
export interface TextPosition {
  offset: number;
  line: number;
}

export const DEFAULT_BATCH_SIZE = 10_000;
export const DEFAULT_SAMPLE_SIZE = 1000;
/** 4 MiB: a text record still open after this many bytes is dead-lettered and reading resynchronises. */
export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** 1 GiB of worksheet XML is about a million rows of twenty columns; sheets are streamed, this bounds the work. */
export const DEFAULT_XLSX_MAX_INFLATED_BYTES = 1024 * 1024 * 1024;
/** 32 MiB: the shared strings are cached whole, taking about 3 times their XML size in memory (measured). */
export const DEFAULT_XLSX_MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024;
/** Deep enough for any document meant as a row; far from what would overflow the stack when a value is written out as JSON. */
export const DEFAULT_JSON_MAX_DEPTH = 64;
/** 32 MiB: an XML document is parsed whole; the parsed tree takes about 20 times the file size in memory. */
export const DEFAULT_XML_MAX_BYTES = 32 * 1024 * 1024;
