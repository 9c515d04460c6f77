import { DataType, DateDay, makeData, makeVector, type Vector } from 'apache-arrow';
import { arrowTypeOf, kindOfType, loadColumn, packValidity, toVector, type Col } from './columns.js';
import { formatValue, parseTimestamp } from './coerce.js';

export type CastTarget = 'int' | 'float' | 'string' | 'bool' | 'timestamp' | 'date';

const DAY_MS = 86_400_000;
const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);
const INTEGER_TEXT = /^[+-]?\d+$/;

/**
 * Converts a column to `int` (Int64), `float` (Float64), `string` (Utf8), `bool`, `timestamp`
 * (milliseconds, UTC) or `date` (days). Values that do not convert (`'abc'` to int) become null.
 */
export function castVector(vector: Vector, target: CastTarget): Vector {
  const n = vector.length;
  const source = loadColumn(vector, kindOfType(vector.type as DataType));
  const alreadyTarget =
    target === 'date' ? vector.type instanceof DateDay : String(vector.type) === String(arrowTypeOf(targetKind(target)));
  if (alreadyTarget) return vector;
  const valid = new Uint8Array(n);
  const isValid = (i: number): boolean => source.kind !== 'null' && (!source.valid || source.valid[i] === 1);
  switch (target) {
    case 'int': {
      const values = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        if (!isValid(i)) continue;
        const v = toBigInt(source, i);
        if (v !== undefined) {
          values[i] = v;
          valid[i] = 1;
        }
      }
      return toVector({ kind: 'bigint', values, valid }, n);
    }
    case 'float':
    case 'timestamp':
    case 'date': {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        if (!isValid(i)) continue;
        const v = target === 'float' ? toNumber(source, i) : toMillis(source, i);
        if (v !== undefined && !Number.isNaN(v)) {
          values[i] = v;
          valid[i] = 1;
        }
      }
      if (target !== 'date') return toVector({ kind: target, values, valid }, n);
      const days = new Int32Array(n);
      for (let i = 0; i < n; i++) days[i] = valid[i] ? Math.floor(values[i] / DAY_MS) : 0;
      const { nullBitmap, nullCount } = packValidity(valid, n);
      return makeVector(makeData({ type: new DateDay(), length: n, nullCount, nullBitmap, data: days }));
    }
    case 'string': {
      const values: string[] = new Array(n).fill('');
      const raw = source.values as ArrayLike<unknown> | null;
      for (let i = 0; i < n; i++) {
        if (!isValid(i) || !raw) continue;
        values[i] = formatValue(source.kind, raw[i]);
        valid[i] = 1;
      }
      return toVector({ kind: 'string', values, valid }, n);
    }
    case 'bool': {
      const values = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (!isValid(i)) continue;
        const v = toBool(source, i);
        if (v !== undefined) {
          values[i] = v ? 1 : 0;
          valid[i] = 1;
        }
      }
      return toVector({ kind: 'bool', values, valid }, n);
    }
  }
}

function targetKind(target: Exclude<CastTarget, 'date'>): 'bigint' | 'float' | 'string' | 'bool' | 'timestamp' {
  return target === 'int' ? 'bigint' : target;
}

function toNumber(col: Col, i: number): number | undefined {
  switch (col.kind) {
    case 'float':
    case 'int':
    case 'timestamp':
      return col.values[i];
    case 'bigint':
      return Number(col.values[i]);
    case 'bool':
      return col.values[i];
    case 'string': {
      const text = col.values[i].trim();
      // Number('') is 0: an empty cell is missing, not zero.
      return text === '' ? undefined : Number(text);
    }
    default:
      return undefined;
  }
}

/** Whole numbers truncate toward zero, like Python's int(); out-of-range values are null. */
function toBigInt(col: Col, i: number): bigint | undefined {
  if (col.kind === 'bigint') return col.values[i];
  if (col.kind === 'string' && INTEGER_TEXT.test(col.values[i].trim())) {
    const v = BigInt(col.values[i].trim());
    return BigInt.asIntN(64, v) === v ? v : undefined;
  }
  const x = col.kind === 'string' ? toNumber(col, i) : col.kind === 'timestamp' ? col.values[i] : toNumber(col, i);
  if (x === undefined || !Number.isFinite(x) || Math.abs(x) >= 2 ** 63) return undefined;
  return BigInt(Math.trunc(x));
}

function toMillis(col: Col, i: number): number | undefined {
  if (col.kind === 'string') return parseTimestamp(col.values[i]);
  if (col.kind === 'bool') return undefined;
  return toNumber(col, i);
}

function toBool(col: Col, i: number): boolean | undefined {
  if (col.kind === 'bool') return col.values[i] === 1;
  if (col.kind === 'string') {
    const word = col.values[i].trim().toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
  }
  if (col.kind === 'bigint') return col.values[i] !== 0n;
  if (col.kind === 'float' || col.kind === 'int') return Number.isNaN(col.values[i]) ? undefined : col.values[i] !== 0;
  return undefined;
}
