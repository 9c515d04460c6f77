import { Readable } from 'node:stream';
import { Bool, Field, Float64, Schema, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { SluiceError, errorMessage, isSluiceError } from '../core/errors.js';
import type { ByteSource } from './byte-source.js';
import { columnNames } from './csv-types.js';
import { RowChunker } from './row-chunker.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_SAMPLE_SIZE,
  DEFAULT_XLSX_MAX_INFLATED_BYTES,
  DEFAULT_XLSX_MAX_SHARED_STRINGS_BYTES,
  type ReadChunk,
  type ReadOptions,
} from './types.js';
import { limitInflation } from './xlsx-limits.js';

/** Where an xlsx reader is: the sheet row number (1-based, as Excel shows it) of the last row read. */
export interface XlsxPosition {
  row: number;
}

/** A cell holding an Excel error such as `#DIV/0!`. */
class CellError {
  constructor(readonly code: string) {}
}

type Cell = number | boolean | Date | string | CellError | null;
type Kind = 'float' | 'bool' | 'timestamp' | 'string';

const TYPES: Record<Kind, () => DataType> = {
  float: () => new Float64(),
  bool: () => new Bool(),
  timestamp: () => new TimestampMillisecond('UTC'),
  string: () => new Utf8(),
};

/** One exceljs cell value as a plain value: formulas give their result, rich text its text. */
function cellOf(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' || value instanceof Date) return value;
  if (typeof value !== 'object') return String(value);
  const v = value as {
    result?: unknown;
    formula?: unknown;
    sharedFormula?: unknown;
    richText?: { text: string }[];
    text?: unknown;
    error?: unknown;
  };
  if ('formula' in v || 'sharedFormula' in v) return cellOf(v.result);
  if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
  if ('error' in v) return new CellError(String(v.error));
  if ('text' in v) return cellOf(v.text);
  return JSON.stringify(value);
}

/**
 * The cells of a row, trailing empty cells dropped. Formula results are read from the cell, not its
 * `value`: exceljs drops falsy results (0, '') from `value`, and its streaming reader turns an error
 * result into NaN (the error code is lost) and a boolean result into 1/0.
 */
function cellsOf(row: ExcelJS.Row): Cell[] {
  const cells: Cell[] = [];
  row.eachCell((cell, col) => {
    while (cells.length < col - 1) cells.push(null);
    if (cell.type !== ExcelJS.ValueType.Formula) cells.push(cellOf(cell.value));
    else {
      const result: unknown = cell.result;
      cells.push(typeof result === 'number' && Number.isNaN(result) ? new CellError('(formula error)') : cellOf(result));
    }
  });
  while (cells.length > 0 && cells[cells.length - 1] === null) cells.pop();
  return cells;
}

function kindOf(cell: Cell): Kind {
  if (typeof cell === 'number') return 'float';
  if (typeof cell === 'boolean') return 'bool';
  return cell instanceof Date ? 'timestamp' : 'string';
}

function text(cell: Cell): string | null {
  if (cell === null) return null;
  if (cell instanceof Date) return cell.toISOString();
  if (cell instanceof CellError) return cell.code;
  return String(cell);
}

function describe(cell: Cell): string {
  return cell instanceof Date ? `date ${cell.toISOString()}` : `${typeof cell} ${JSON.stringify(cell)}`;
}

/**
 * The schema of a sheet from its header and a sample of rows. A column whose sampled cells are all
 * numbers is Float64, all booleans Bool, all dates Timestamp(ms, UTC); a column mixing kinds (or
 * holding text) is Utf8, its numbers, booleans and dates written as text. A later cell that does not
 * fit its typed column, an error cell, or a row wider than the header makes the row a dead letter.
 */
function inferSheetLayout(header: Cell[], sample: Cell[][]) {
  const names = columnNames(header.map(text), header.length);
  const kinds = names.map((_, c): Kind => {
    let kind: Kind | undefined;
    for (const row of sample) {
      const cell = row.length <= names.length ? row[c] : null;
      if (cell === null || cell === undefined || cell instanceof CellError) continue;
      const k = kindOf(cell);
      if (kind !== undefined && kind !== k) return 'string';
      kind = k;
    }
    return kind ?? 'string';
  });
  const schema = new Schema(names.map((name, c) => new Field(name, TYPES[kinds[c]](), true)));
  const convert = (cells: Cell[]): unknown[] | string => {
    if (cells.length > names.length) return `row has ${cells.length} cells, the header names ${names.length} columns`;
    const row = new Array<unknown>(names.length).fill(null);
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      if (cell === null) continue;
      if (cell instanceof CellError) return `column ${JSON.stringify(names[c])}: cell error ${cell.code}`;
      if (kinds[c] === 'string') row[c] = text(cell);
      else if (kindOf(cell) !== kinds[c]) return `column ${JSON.stringify(names[c])}: ${describe(cell)} does not fit a ${kinds[c]} column`;
      else row[c] = cell instanceof Date ? cell.getTime() : cell;
    }
    return row;
  };
  return { names, schema, convert };
}

function xlsxPosition(position: unknown): XlsxPosition {
  if (position === undefined || position === null) return { row: 0 };
  const p = position as Partial<XlsxPosition>;
  if (typeof p !== 'object' || !Number.isSafeInteger(p.row) || p.row! < 0) {
    throw new SluiceError('SLUICE_SOURCE_FAILED', `not an xlsx position: ${JSON.stringify(position)} (expected { row })`, {
      retriable: false,
    });
  }
  return { row: p.row! };
}

/**
 * Streams one sheet of an `.xlsx` workbook as Arrow chunks: the first non-empty row names the
 * columns, types come from the first `sampleSize` rows (see {@link inferSheetLayout}). The workbook is
 * read with exceljs's streaming reader, so only shared strings, styles and one chunk are in memory;
 * a workbook inflating past the `xlsx` limits fails the read (see {@link limitInflation}).
 * Resuming from `{ row }` reads the header and sample again (the schema stays the same) and emits
 * the rows after that sheet row.
 *
 * @example
 * for await (const chunk of readXlsx(localFileSource('orders.xlsx'), { xlsx: { sheet: 'Orders' }, batchSize: 5000 })) { ... }
 */
export async function* readXlsx(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  const input = workbookInput(source);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input.stream, {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'emit',
  });
  const release = limitInflation(reader, source.name, {
    maxInflatedBytes: options.xlsx?.maxInflatedBytes ?? DEFAULT_XLSX_MAX_INFLATED_BYTES,
    maxSharedStringsBytes: options.xlsx?.maxSharedStringsBytes ?? DEFAULT_XLSX_MAX_SHARED_STRINGS_BYTES,
  });
  try {
    yield* readSheet(reader, source.name, options);
  } catch (error) {
    throw input.failure() ?? error;
  } finally {
    release();
  }
  const failure = input.failure();
  if (failure) throw failure;
}

/**
 * A byte source as exceljs's input stream. exceljs pipes its input into the unzipper without
 * listening for errors, where a failed read would be an unhandled error (ending the process). So
 * a read that fails ends the stream early instead, and is kept as `failure` to raise in its place.
 */
function workbookInput(source: ByteSource): { stream: Readable; failure: () => SluiceError | undefined } {
  let failure: SluiceError | undefined;
  async function* untilFailure(): AsyncGenerator<Uint8Array> {
    try {
      yield* source.open();
    } catch (error) {
      failure = isSluiceError(error)
        ? error
        : new SluiceError('SLUICE_SOURCE_FAILED', `reading ${source.name}: ${errorMessage(error)}`, { cause: error });
    }
  }
  return { stream: Readable.from(untilFailure()), failure: () => failure };
}

async function* readSheet(reader: ExcelJS.stream.xlsx.WorkbookReader, name: string, options: ReadOptions): AsyncGenerator<ReadChunk> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  const from = xlsxPosition(options.from);
  const wanted = options.xlsx?.sheet ?? 0;
  const node = options.node ?? 'file';
  const seen: string[] = [];
  for await (const worksheet of reader) {
    // exceljs's typings omit the name the streaming reader gives each sheet.
    const sheet = (worksheet as unknown as { name?: string }).name ?? `sheet${seen.length + 1}`;
    const index = seen.push(sheet) - 1;
    if (typeof wanted === 'number' ? index !== wanted : sheet !== wanted) continue;

    let header: Cell[] | undefined;
    let layout: ReturnType<typeof inferSheetLayout> | undefined;
    let chunker: RowChunker | undefined;
    const pending: { row: number; cells: Cell[] }[] = [];
    const take = (row: number, cells: Cell[]): ReadChunk | undefined => {
      if (row <= from.row) return undefined;
      const values = layout!.convert(cells);
      if (Array.isArray(values)) return chunker!.add(values, { row });
      const record = Object.fromEntries(cells.map((cell, c) => [layout!.names[c] ?? `column_${c + 1}`, text(cell)]));
      return chunker!.add({ node, reason: values, record, origin: { file: name, sheet, row } }, { row });
    };
    const startRows = function* (): Generator<ReadChunk> {
      layout = inferSheetLayout(
        header!,
        pending.map((p) => p.cells),
      );
      chunker = new RowChunker(layout.schema, batchSize);
      for (const p of pending.splice(0)) {
        const chunk = take(p.row, p.cells);
        if (chunk) yield chunk;
      }
    };

    for await (const row of worksheet) {
      if (options.signal?.aborted) return;
      const cells = cellsOf(row);
      if (cells.length === 0) continue;
      if (!header) header = cells;
      else if (layout) {
        const chunk = take(row.number, cells);
        if (chunk) yield chunk;
      } else {
        pending.push({ row: row.number, cells });
        if (pending.length >= sampleSize) yield* startRows();
      }
    }
    if (!header) return;
    if (!layout) yield* startRows();
    const last = chunker!.flush();
    if (last && !options.signal?.aborted) yield last;
    return;
  }
  throw new SluiceError(
    'SLUICE_SOURCE_FAILED',
    `${name} has no sheet ${JSON.stringify(wanted)} (sheets: ${seen.map((s) => JSON.stringify(s)).join(', ') || 'none'})`,
    { retriable: false },
  );
}
