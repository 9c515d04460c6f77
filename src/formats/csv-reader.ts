import { SluiceError } from '../core/errors.js';
import type { ByteSource } from './byte-source.js';
import { csvScanner, splitCsvRecord, type CsvFields } from './csv-fields.js';
import { inferCsvLayout } from './csv-types.js';
import { recordText } from './raw-records.js';
import { readTextFile, type TextFormat } from './text-reader.js';
import type { CsvReadOptions, ReadChunk, ReadOptions } from './types.js';

function singleAscii(name: string, value: string): string {
  if (value.length !== 1 || value.charCodeAt(0) > 0x7f || value === '\n' || value === '\r') {
    throw new SluiceError(
      'SLUICE_CONFIG_INVALID',
      `csv ${name} must be one ASCII character other than CR/LF, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The CSV text format: header, delimiter and quote character, types inferred from a sample. */
export function csvFormat(options: CsvReadOptions = {}): TextFormat<CsvFields> {
  const delimiter = singleAscii('delimiter', options.delimiter ?? ',');
  const quote = singleAscii('quote', options.quote ?? '"');
  const header = options.header ?? true;
  return {
    scanner: () => csvScanner(delimiter, quote),
    parser(fromStart) {
      // Resuming starts after the header, so only a pass from the start meets it.
      let headerPending = header && fromStart;
      return (raw) => {
        const text = recordText(raw);
        if (text.trim() === '') return undefined;
        const fields = splitCsvRecord(text, delimiter, quote);
        if (typeof fields === 'string') {
          if (headerPending)
            throw new SluiceError('SLUICE_SOURCE_FAILED', `CSV header on line ${raw.line}: ${fields}`, { retriable: false });
          return {
            kind: 'bad',
            raw,
            reason: raw.terminated ? fields : `${fields} (file ends inside a quoted field)`,
            text,
            line: raw.line,
          };
        }
        if (headerPending) {
          headerPending = false;
          return { kind: 'header', raw, value: fields };
        }
        return { kind: 'row', raw, value: fields, text, line: raw.line };
      };
    },
    layout: (head, sample) => inferCsvLayout(head, sample, options.inferTypes ?? true),
  };
}

/** Streams CSV as Arrow chunks; see {@link csvFormat}. */
export function readCsv(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
  return readTextFile(source, csvFormat(options.csv), options);
}
