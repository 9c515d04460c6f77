import { DataType, TimeUnit, Type, type Data, type Timestamp, type Vector } from 'apache-arrow';
import { DATE_INFINITY, TS_INFINITY } from './text-columns.js';

/** Formats the value at a row of a column as PostgreSQL input text; null for SQL NULL. */
export type TextFormatter = (row: number) => string | null;

const MICROS_PER_UNIT: Record<number, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1000n,
  [TimeUnit.MICROSECOND]: 1n,
};

/**
 * A formatter for one column of a record batch. Timestamps are read from the raw int64 values
 * so microseconds survive (Arrow's `get` rounds them through a float of milliseconds).
 */
export function textFormatter(vector: Vector): TextFormatter {
  const data = vector.data[0] as Data | undefined;
  if (!data) return () => null;
  const isNull = (row: number): boolean => data.nullCount > 0 && !data.getValid(row);
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Timestamp: {
      const unit = (type as Timestamp).unit;
      const zone = (type as Timestamp).timezone ? '+00' : '';
      const values = data.values as BigInt64Array;
      return (row) => {
        if (isNull(row)) return null;
        // Arrow slices fixed-width value buffers with the data; only bitmaps are read at data.offset.
        const raw = values[row];
        const micros = unit === TimeUnit.NANOSECOND ? raw / 1000n : raw * MICROS_PER_UNIT[unit];
        return formatTimestamp(micros) + zone;
      };
    }
    case Type.Date:
      return (row) => {
        if (isNull(row)) return null;
        const ms = vector.get(row) as number;
        const days = Math.round(ms / 86_400_000);
        return days === DATE_INFINITY ? 'infinity' : days === -DATE_INFINITY ? '-infinity' : formatDate(ms);
      };
    case Type.List:
      return (row) => {
        if (isNull(row)) return null;
        const items = vector.get(row) as Vector;
        const format = textFormatter(items);
        const parts: string[] = [];
        for (let i = 0; i < items.length; i++) {
          const text = format(i);
          parts.push(text === null ? 'NULL' : `"${text.replace(/[\\"]/g, '\\$&')}"`);
        }
        return `{${parts.join(',')}}`;
      };
    default:
      return (row) => {
        if (isNull(row)) return null;
        return scalarText(vector.get(row));
      };
  }
}

function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function formatDate(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const ymd = `${pad(year > 0 ? year : 1 - year, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return year > 0 ? ymd : `${ymd} BC`;
}

/** Microseconds since the epoch → `YYYY-MM-DD HH:MM:SS.ffffff` (UTC). */
export function formatTimestamp(micros: bigint): string {
  if (micros === TS_INFINITY) return 'infinity';
  if (micros === -TS_INFINITY) return '-infinity';
  let ms = micros / 1000n;
  let frac = micros % 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000n;
    if (micros % 1000n !== 0n) ms -= 1n;
  }
  const d = new Date(Number(ms));
  const year = d.getUTCFullYear();
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${frac.toString().padStart(6, '0')}`;
  const ymd = `${pad(year > 0 ? year : 1 - year, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return year > 0 ? `${ymd} ${time}` : `${ymd} ${time} BC`;
}

/** Escapes a value for the text format of COPY: backslash, tab, newline, carriage return. */
export function copyEscape(text: string | null): string {
  if (text === null) return '\\N';
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    : text;
}
