import type { Schema } from 'apache-arrow';
import type { DeadLetter } from '../core/dead-letter.js';
import { SluiceError } from '../core/errors.js';
import { BatchBuilder } from './batch-builder.js';
import type { ByteSource } from './byte-source.js';
import { rawRecords, recordText, type BoundaryScanner, type RawRecord } from './raw-records.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_SAMPLE_SIZE,
  type ReadChunk,
  type ReadOptions,
  type TextPosition,
} from './types.js';

/** A record after parsing: the header (CSV), a value to convert into a row, or a reason it is bad. */
export type Parsed<P> =
  | { kind: 'header'; raw: RawRecord; value: P }
  | { kind: 'row'; raw: RawRecord; value: P; text: string; line: number }
  | { kind: 'bad'; raw: RawRecord; reason: string; text: string; line: number };

/** The schema chosen for a file and how parsed values become rows of it. */
export interface Layout<P> {
  schema: Schema;
  /** Row values in schema order, or the reason the value does not fit. */
  convert(value: P): unknown[] | string;
}

/** What distinguishes one text format from another. */
export interface TextFormat<P> {
  /** `fromStart` is false when reading resumes in the middle of the file. */
  scanner(fromStart: boolean): BoundaryScanner;
  /** A parser for one pass over the file; returns undefined for records to ignore (blank lines). */
  parser(fromStart: boolean): (raw: RawRecord) => Parsed<P> | undefined;
  layout(header: P | undefined, sample: P[]): Layout<P>;
}

const START: TextPosition = { offset: 0, line: 0 };

/** Reads the `{ offset, line }` position of a text chunk. */
export function textPosition(position: unknown): TextPosition {
  if (position === undefined || position === null) return START;
  const p = position as Partial<TextPosition>;
  if (typeof p !== 'object' || !Number.isSafeInteger(p.offset) || !Number.isSafeInteger(p.line) || p.offset! < 0 || p.line! < 0) {
    throw new SluiceError('SLUICE_SOURCE_FAILED', `not a text file position: ${JSON.stringify(position)} (expected { offset, line })`, {
      retriable: false,
    });
  }
  return { offset: p.offset!, line: p.line! };
}

async function* parsedRecords<P>(
  source: ByteSource,
  format: TextFormat<P>,
  from: TextPosition,
  options: ReadOptions,
): AsyncGenerator<Parsed<P>> {
  const fromStart = from.offset === 0;
  const parse = format.parser(fromStart);
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  for await (const raw of rawRecords(source, format.scanner(fromStart), from, { maxRecordBytes, signal: options.signal })) {
    if (raw.tooLong) {
      const reason = `record longer than max_record_bytes (${maxRecordBytes} bytes): an unclosed quote or a missing line break? Its first line is dead-lettered and reading goes on at the next line`;
      yield { kind: 'bad', raw, reason, text: recordText(raw), line: raw.line };
      continue;
    }
    const parsed = parse(raw);
    if (parsed) yield parsed;
  }
}

interface Sample<P> {
  header: P | undefined;
  values: P[];
  /** Every record pulled while sampling, to be processed in order afterwards. */
  pulled: Parsed<P>[];
}

async function takeSample<P>(records: AsyncIterator<Parsed<P>>, size: number): Promise<Sample<P>> {
  const sample: Sample<P> = { header: undefined, values: [], pulled: [] };
  while (sample.values.length < size) {
    const next = await records.next();
    if (next.done) break;
    const parsed = next.value;
    sample.pulled.push(parsed);
    if (parsed.kind === 'header') sample.header = parsed.value;
    else if (parsed.kind === 'row') sample.values.push(parsed.value);
  }
  return sample;
}

async function* replayThen<T>(first: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Streams a text source as chunks of at most `batchSize` records (rows plus dead letters). The schema
 * comes from a sample at the start of the file, so it is the same for every chunk, also after a
 * resume (which re-reads the sample, then seeks).
 */
export async function* readTextFile<P>(source: ByteSource, format: TextFormat<P>, options: ReadOptions): AsyncGenerator<ReadChunk> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  const node = options.node ?? 'file';
  const from = textPosition(options.from);
  const main = parsedRecords(source, format, from, options);
  try {
    let sample: Sample<P>;
    if (from.offset === 0) {
      sample = await takeSample(main, sampleSize);
    } else {
      const head = parsedRecords(source, format, START, options);
      try {
        sample = { ...(await takeSample(head, sampleSize)), pulled: [] };
      } finally {
        await head.return(undefined);
      }
    }
    const layout = format.layout(sample.header, sample.values);
    const builder = new BatchBuilder(layout.schema);
    let deadLetters: DeadLetter[] = [];
    let position: TextPosition = from;
    const reject = (reason: string, text: string, line: number) =>
      deadLetters.push({ node, reason, record: text, origin: { file: source.name, line } });
    for await (const parsed of replayThen(sample.pulled, main)) {
      position = { offset: parsed.raw.end, line: parsed.raw.endLine };
      if (parsed.kind === 'bad') {
        reject(parsed.reason, parsed.text, parsed.line);
      } else if (parsed.kind === 'row') {
        const row = layout.convert(parsed.value);
        if (typeof row === 'string') reject(row, parsed.text, parsed.line);
        else builder.append(row);
      }
      if (builder.length + deadLetters.length >= batchSize) {
        yield { data: builder.flush(), deadLetters, position: { ...position } };
        deadLetters = [];
      }
    }
    if (builder.length + deadLetters.length > 0) yield { data: builder.flush(), deadLetters, position: { ...position } };
  } finally {
    await main.return(undefined);
  }
}
