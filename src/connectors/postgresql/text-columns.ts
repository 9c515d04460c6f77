import { DataType, makeData, Type, type Data, type List, type Timestamp } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';

/** Special values PostgreSQL allows in dates and timestamps, kept as the extremes of their range. */
export const DATE_INFINITY = 2147483647;
export const TS_INFINITY = 9223372036854775807n;

const encoder = new TextEncoder();

/**
 * Builds one Arrow column from PostgreSQL text values (null for SQL NULL): the values as
 * PostgreSQL prints them, so nothing is lost on the way (microseconds, numeric digits, int8).
 */
export function columnFromText(type: DataType, values: ReadonlyArray<string | null>): Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validity(values);
  const base = { type, length, nullCount, nullBitmap } as const;
  switch (type.typeId) {
    case Type.Int: {
      const width = (type as DataType & { bitWidth: number }).bitWidth;
      if (width === 64) return makeData({ ...base, data: fill(new BigInt64Array(length), values, (v) => BigInt(v)) } as never);
      const array = width === 16 ? new Int16Array(length) : new Int32Array(length);
      return makeData({ ...base, data: fill(array, values, (v) => Number(v)) } as never);
    }
    case Type.Float: {
      const array = (type as DataType & { precision: number }).precision === 1 ? new Float32Array(length) : new Float64Array(length);
      return makeData({ ...base, data: fill(array, values, parseFloatText) } as never);
    }
    case Type.Bool: {
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (values[i] === 't') bits[i >> 3] |= 1 << (i & 7);
      return makeData({ ...base, data: bits } as never);
    }
    case Type.Date:
      return makeData({ ...base, data: fill(new Int32Array(length), values, parseDateDays) } as never);
    case Type.Timestamp:
      return makeData({ ...base, data: fill(new BigInt64Array(length), values, (v) => parseTimestampMicros(v, Boolean((type as Timestamp).timezone))) } as never);
    case Type.Binary:
      return variableWidth(base, values.map((v) => (v === null ? null : Buffer.from(v.slice(2), 'hex'))));
    case Type.List: {
      const offsets = new Int32Array(length + 1);
      const items: (string | null)[] = [];
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null) for (const item of parseArrayText(v)) items.push(item);
        offsets[i + 1] = items.length;
      }
      const child = columnFromText((type as List).children[0].type, items);
      return makeData({ ...base, valueOffsets: offsets, child } as never);
    }
    default:
      return utf8Column(base, values);
  }
}

/** UTF-8 column encoded into one buffer (no allocation per value). */
function utf8Column(base: object, values: ReadonlyArray<string | null>): Data {
  const offsets = new Int32Array(values.length + 1);
  let capacity = 0;
  for (const v of values) if (v !== null) capacity += v.length * 3;
  const data = new Uint8Array(capacity);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v.length > 0) at += encoder.encodeInto(v, data.subarray(at)).written;
    offsets[i + 1] = at;
  }
  return makeData({ ...base, valueOffsets: offsets, data: data.subarray(0, at) } as never);
}

function validity(values: ReadonlyArray<unknown>): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) nullCount++;
    else nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  return { nullBitmap, nullCount };
}

function fill<A extends { [i: number]: T }, T>(array: A, values: ReadonlyArray<string | null>, parse: (v: string) => T): A {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) array[i] = parse(v);
  }
  return array;
}

function variableWidth(base: object, bytes: (Uint8Array | null)[]): Data {
  const offsets = new Int32Array(bytes.length + 1);
  let total = 0;
  for (let i = 0; i < bytes.length; i++) {
    total += bytes[i]?.length ?? 0;
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) data.set(bytes[i]!, offsets[i]);
  return makeData({ ...base, valueOffsets: offsets, data } as never);
}

function parseFloatText(v: string): number {
  return v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v);
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
