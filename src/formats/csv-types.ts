import { Bool, Field, Float64, Int64, Schema, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import type { CsvFields } from './csv-fields.js';

type Kind = 'int' | 'float' | 'bool' | 'timestamp' | 'string';

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOL = /^(?:true|false)$/i;
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Epoch milliseconds of an ISO 8601 date or timestamp; a timestamp without a zone is taken as UTC.
 * Undefined when the text is not one.
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, date, time, zone] = m;
  let iso = date;
  if (time) {
    let z = (zone ?? 'Z').toUpperCase();
    if (z !== 'Z') z = z.length === 3 ? `${z}:00` : z.length === 5 ? `${z.slice(0, 3)}:${z.slice(3)}` : z;
    iso = `${date}T${time}${z}`;
  }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

function isSafeIntText(text: string): boolean {
  return Number.isSafeInteger(Number(text));
}

/** The narrowest kind every sampled value of a column fits. */
function inferKind(values: string[]): Kind {
  if (values.length === 0) return 'string';
  let int = true;
  let float = true;
  let bool = true;
  let timestamp = true;
  for (const v of values) {
    int &&= INT.test(v);
    float &&= FLOAT.test(v);
    bool &&= BOOL.test(v);
    timestamp &&= parseIsoTimestamp(v) !== undefined;
    if (!int && !float && !bool && !timestamp) return 'string';
  }
  if (int) return values.every(isSafeIntText) ? 'float' : 'int';
  if (float) return 'float';
  if (bool) return 'bool';
  return timestamp ? 'timestamp' : 'string';
}

const TYPES: Record<Kind, () => DataType> = {
  int: () => new Int64(),
  float: () => new Float64(),
  bool: () => new Bool(),
  timestamp: () => new TimestampMillisecond('UTC'),
  string: () => new Utf8(),
};

/** Converts one field to its column's value, or returns why it does not fit. */
type Converter = (text: string) => unknown | Reason;

class Reason {
  constructor(readonly text: string) {}
}

const CONVERTERS: Record<Kind, Converter> = {
  int: (t) => (INT.test(t) ? BigInt(t.replace(/^\+/, '')) : new Reason('is not an integer (Int64)')),
  float: (t) => {
    if (!FLOAT.test(t)) return new Reason('is not a number (Float64)');
    if (INT.test(t) && !isSafeIntText(t)) return new Reason('is an integer too large for Float64 without losing precision');
    return Number(t);
  },
  bool: (t) => (BOOL.test(t) ? t.toLowerCase() === 'true' : new Reason('is not a boolean (true/false)')),
  timestamp: (t) => parseIsoTimestamp(t) ?? new Reason('is not an ISO 8601 date or timestamp'),
  string: (t) => t,
};

/** The schema of a CSV file and how to turn its records into rows of that schema. */
export interface CsvLayout {
  schema: Schema;
  /** Row values in schema order, or the reason the record does not fit. */
  convert(fields: CsvFields): unknown[] | string;
}

/** Column names from a header row: blanks become `column_<n>`, repeats get a `_<n>` suffix. */
export function columnNames(header: CsvFields | undefined, width: number): string[] {
  const seen = new Map<string, number>();
  return Array.from({ length: header?.length ?? width }, (_, i) => {
    const base = header?.[i] || `column_${i + 1}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
}

/**
 * Infers column types from sampled records. Integer columns become Float64 when every sampled
 * value is a safe integer (so later fractional values still fit), else Int64 (exact, bigint).
 * ISO dates and timestamps become Timestamp(ms, UTC). Empty unquoted fields are null.
 */
export function inferCsvLayout(header: CsvFields | undefined, sample: CsvFields[], inferTypes: boolean): CsvLayout {
  const names = columnNames(header, sample[0]?.length ?? 0);
  const kinds: Kind[] = names.map((_, c) => {
    if (!inferTypes) return 'string';
    const values: string[] = [];
    // Records of the wrong width are dead letters later; they must not sway the types.
    for (const record of sample) {
      if (record.length !== names.length) continue;
      const v = record[c];
      if (v !== null && v !== undefined && v !== '') values.push(v);
    }
    return inferKind(values);
  });
  const schema = new Schema(names.map((name, c) => new Field(name, TYPES[kinds[c]](), true)));
  const converters = kinds.map((k) => CONVERTERS[k]);
  return {
    schema,
    convert(fields) {
      if (fields.length !== names.length) return `expected ${names.length} fields, got ${fields.length}`;
      const row = new Array<unknown>(fields.length);
      for (let c = 0; c < fields.length; c++) {
        const text = fields[c];
        // A quoted empty string is an empty string only in a text column.
        if (text === null || (text === '' && kinds[c] !== 'string')) {
          row[c] = null;
          continue;
        }
        const value = converters[c](text);
        if (value instanceof Reason) return `column ${JSON.stringify(names[c])}: ${JSON.stringify(text)} ${value.text}`;
        row[c] = value;
      }
      return row;
    },
  };
}
