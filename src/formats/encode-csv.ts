import type { RecordBatch } from 'apache-arrow';
import { jsonCellReaders } from './values.js';

export interface CsvWriteOptions {
  /** Default `,`. */
  delimiter?: string;
  /** Default `"`. */
  quote?: string;
  /** Write the column names as the first line; default true. */
  header?: boolean;
  /** Default `\n`. */
  lineEnding?: '\n' | '\r\n';
}

/**
 * CSV text of a batch. Null is an empty field and an empty string is `""`, so both survive a
 * round trip; fields holding the delimiter, quote, CR or LF are quoted with quotes doubled.
 * Timestamps are ISO 8601 strings, Int64 exact digits, nested values JSON.
 */
export function encodeCsv(batch: RecordBatch, options: CsvWriteOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  const eol = options.lineEnding ?? '\n';
  const needsQuotes = (text: string) =>
    text === '' || text.includes(delimiter) || text.includes(quote) || text.includes('\n') || text.includes('\r');
  const field = (text: string) => (needsQuotes(text) ? `${quote}${text.split(quote).join(quote + quote)}${quote}` : text);
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    return field(typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value));
  };
  const lines: string[] = [];
  if (options.header ?? true) lines.push(batch.schema.fields.map((f) => field(f.name)).join(delimiter));
  const readers = jsonCellReaders(batch);
  // Int64 must stay exact in text, whatever its size.
  const columns = batch.schema.fields.map((_, c) => batch.getChildAt(c)!);
  for (let r = 0; r < batch.numRows; r++) {
    const cells = readers.map((read, c) => {
      const raw = columns[c].get(r);
      return cell(typeof raw === 'bigint' ? raw.toString() : read(r));
    });
    lines.push(cells.join(delimiter));
  }
  return lines.length === 0 ? '' : lines.join(eol) + eol;
}
