import { Type, type Data, type DataType, type List, type Timestamp } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import { makeColumnBuilder } from '../kit/columns/make-builder.js';

/** Special values PostgreSQL allows in dates and timestamps, kept as the extremes of their range. */
export const DATE_INFINITY = 2147483647;
export const TS_INFINITY = 9223372036854775807n;

/**
 * Builds one Arrow column from PostgreSQL text values (null for SQL NULL): the values as
 * PostgreSQL prints them, so nothing is lost on the way (microseconds, numeric digits, int8).
 */
export function columnFromText(type: DataType, values: ReadonlyArray<string | null>): Data {
  const builder = makeColumnBuilder(type);
  const parse = textParser(type);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    builder.append(v === null ? null : parse(v));
  }
  return builder.finish();
}

const asIs = (v: string): string => v;

/**
 * How a text value becomes what the column builder takes. Numbers go as they are: the builders
 * read decimal text exactly (`BigInt` for int8), `Infinity` and `NaN` included.
 */
function textParser(type: DataType): (v: string) => unknown {
  switch (type.typeId) {
    case Type.Bool:
      return (v) => v === 't';
    case Type.Date:
      return parseDateDays;
    case Type.Timestamp: {
      const withZone = Boolean((type as Timestamp).timezone);
      return (v) => parseTimestampMicros(v, withZone);
    }
    case Type.Binary:
      return (v) => Buffer.from(v.slice(2), 'hex');
    case Type.List: {
      const item = textParser((type as List).children[0].type);
      return (v) => parseArrayText(v).map((i) => (i === null ? null : item(i)));
    }
    default:
      return asIs;
  }
}

/** Milliseconds since the epoch of a proleptic Gregorian UTC date-time (years below 100 included). */
export function epochMs(year: number, month: number, day: number, h = 0, m = 0, s = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h, m, s, 0);
  return d.getTime();
}

/** `2024-02-29` (or `0044-03-15 BC`) → days since 1970-01-01. */
export function parseDateDays(v: string): number {
  if (v === 'infinity') return DATE_INFINITY;
  if (v === '-infinity') return -DATE_INFINITY;
  const m = /^(\d+)-(\d\d)-(\d\d)( BC)?$/.exec(v);
  if (!m) throw new SluiceError('SLUICE_RECORD_INVALID', `cannot read date '${v}' (DateStyle must be ISO)`);
  const year = m[4] ? 1 - Number(m[1]) : Number(m[1]);
  return Math.round(epochMs(year, Number(m[2]), Number(m[3])) / 86_400_000);
}

const TS = /^(\d+)-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** A timestamp's text → microseconds since the epoch (UTC); a zone offset, if printed, applied. */
export function parseTimestampMicros(v: string, _withZone: boolean): bigint {
  if (v === 'infinity') return TS_INFINITY;
  if (v === '-infinity') return -TS_INFINITY;
  const m = TS.exec(v);
  if (!m) throw new SluiceError('SLUICE_RECORD_INVALID', `cannot read timestamp '${v}' (DateStyle must be ISO)`);
  const seconds = dayMs(m[1], m[2], m[3], m[12] !== undefined) / 1000 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  let micros = BigInt(seconds) * 1_000_000n;
  if (m[7]) micros += BigInt(m[7].padEnd(6, '0'));
  if (m[8]) {
    const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1_000_000;
    micros -= BigInt(m[8] === '-' ? -offset : offset);
  }
  return micros;
}

const dayCache = new Map<string, number>();

/** Epoch milliseconds of a date's midnight UTC, cached: rows of a batch share few dates. */
function dayMs(y: string, mo: string, d: string, bc: boolean): number {
  const key = `${y}-${mo}-${d}${bc ? 'BC' : ''}`;
  let ms = dayCache.get(key);
  if (ms === undefined) {
    ms = epochMs(bc ? 1 - Number(y) : Number(y), Number(mo), Number(d));
    if (dayCache.size > 10_000) dayCache.clear();
    dayCache.set(key, ms);
  }
  return ms;
}

/** Elements of a one-dimensional array literal such as `{1,NULL,"a b","q\"x"}`. */
export function parseArrayText(v: string): (string | null)[] {
  let i = v.startsWith('[') ? v.indexOf('=') + 1 : 0;
  if (v[i] !== '{') throw new SluiceError('SLUICE_RECORD_INVALID', `cannot read array '${v.slice(0, 40)}'`);
  i++;
  const items: (string | null)[] = [];
  if (v[i] === '}') return items;
  while (i < v.length) {
    if (v[i] === '{') throw new SluiceError('SLUICE_RECORD_INVALID', 'multi-dimensional arrays are not supported');
    let item = '';
    let quoted = false;
    if (v[i] === '"') {
      quoted = true;
      i++;
      while (v[i] !== '"') {
        if (v[i] === '\\') i++;
        item += v[i++];
      }
      i++;
    } else {
      while (v[i] !== ',' && v[i] !== '}') item += v[i++];
    }
    items.push(!quoted && item === 'NULL' ? null : item);
    if (v[i] === '}') break;
    i++;
  }
  return items;
}
