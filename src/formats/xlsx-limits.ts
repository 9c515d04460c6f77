import { Transform, type Readable } from 'node:stream';
import { SluiceError } from '../core/errors.js';
import { Utf8Pieces } from './utf8-pieces.js';

export interface XlsxLimits {
  /** Bytes the parts read (worksheets, shared strings, styles) may inflate to, in all. */
  maxInflatedBytes: number;
  /** Bytes the shared strings part may inflate to: the reader keeps every shared string in memory. */
  maxSharedStringsBytes: number;
}

/**
 * The parts of exceljs's streaming `WorkbookReader` (4.4) this module wraps: each of these methods
 * parses one inflated zip part. The reader inflates the parts itself, so counting what flows into
 * them is the only place to bound a workbook that inflates to far more than its size.
 */
interface ReaderInternals {
  stream?: Readable;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(iterator: AsyncIterable<Buffer>, sheetNo: string): Generator<unknown>;
}

function tooLarge(path: string, part: string, field: string, limit: number): SluiceError {
  return new SluiceError(
    'SLUICE_SOURCE_FAILED',
    `${path}: ${part} inflate past xlsx.${field} (${limit} bytes); a workbook this large (or a zip bomb) is refused, raise the limit for a file you trust`,
    {
      retriable: false,
    },
  );
}

/**
 * Makes `reader` fail with a clear error, instead of exhausting memory or time, once the workbook
 * inflates past the limits. Returns a function that releases the file (also when reading stopped early).
 *
 * The parts are also handed on cut at whole UTF-8 characters: exceljs decodes each inflated chunk
 * on its own, which garbles a character that a chunk boundary splits.
 */
export function limitInflation(reader: object, path: string, limits: XlsxLimits): () => void {
  const internals = reader as ReaderInternals;
  let inflated = 0;
  let sharedStrings = 0;
  const countInflated = (bytes: number) => {
    inflated += bytes;
    if (inflated > limits.maxInflatedBytes) throw tooLarge(path, 'its parts', 'max_inflated_bytes', limits.maxInflatedBytes);
  };
  const counting = (entry: Readable, count: (bytes: number) => void): Readable => {
    const pieces = new Utf8Pieces();
    return entry.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          try {
            count(chunk.length);
            done(null, pieces.next(chunk));
          } catch (error) {
            done(error as Error);
          }
        },
        flush(done) {
          done(null, pieces.rest());
        },
      }),
    );
  };

  const parseSharedStrings = internals._parseSharedStrings.bind(reader);
  internals._parseSharedStrings = (entry) =>
    parseSharedStrings(
      counting(entry, (bytes) => {
        sharedStrings += bytes;
        if (sharedStrings > limits.maxSharedStringsBytes)
          throw tooLarge(path, 'its shared strings', 'max_shared_strings_bytes', limits.maxSharedStringsBytes);
        countInflated(bytes);
      }),
    );
  const parseStyles = internals._parseStyles.bind(reader);
  internals._parseStyles = (entry) => parseStyles(counting(entry, countInflated));
  const parseWorksheet = internals._parseWorksheet.bind(reader);
  internals._parseWorksheet = (iterator, sheetNo) => {
    // A worksheet that came before the shared strings is read back from an exceljs temp file. A
    // read stopped early leaves that stream opening a file the temp cleanup may have removed, and
    // its ENOENT, with nobody iterating any more, would be an uncaught exception. While iterated,
    // errors still reach the reader through the iteration.
    (iterator as Partial<Readable>).on?.('error', () => undefined);
    return parseWorksheet(
      (async function* () {
        const pieces = new Utf8Pieces();
        for await (const chunk of iterator) {
          countInflated(chunk.length);
          yield pieces.next(chunk);
        }
        const rest = pieces.rest();
        if (rest) yield rest;
      })(),
      sheetNo,
    );
  };
  return () => internals.stream?.destroy();
}
