import { DataType, Float64, makeData, makeVector, type Vector } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import { isNumericKind, kindOfType, loadColumn, packValidity } from '../expression/columns.js';

/** A numeric column as doubles plus validity (1 = a real number: not null, not NaN). */
export interface Numbers {
  values: Float64Array;
  valid: Uint8Array;
  /** How many rows are valid. */
  count: number;
}

/** Whether a column can be read as numbers (ints, floats, bigints, timestamps, dates). */
export function isNumericType(type: DataType): boolean {
  const kind = kindOfType(type);
  return isNumericKind(kind) || kind === 'timestamp';
}

/**
 * Reads a numeric column as doubles. NaN counts as missing, as pandas does: statistics skip it
 * and `clean` fills it. Bigints beyond 2^53 lose precision (statistics are doubles anyway).
 */
export function readNumbers(vector: Vector, what = 'column'): Numbers {
  const type = vector.type as DataType;
  const kind = kindOfType(type);
  if (!isNumericKind(kind) && kind !== 'timestamp' && kind !== 'null') {
    throw new SluiceError('SLUICE_TRANSFORM_FAILED', `${what} must be numeric, got ${String(type)}`);
  }
  const n = vector.length;
  const col = loadColumn(vector, kind);
  const values =
    col.kind === 'null'
      ? new Float64Array(n)
      : col.kind === 'bigint'
        ? Float64Array.from(col.values, Number)
        : (col.values as Float64Array);
  const valid = new Uint8Array(n);
  const source = col.valid;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const ok = (source === null || source[i] === 1) && values[i] === values[i] ? 1 : 0;
    valid[i] = ok;
    count += ok;
  }
  return { values, valid, count };
}

/** A Float64 vector from values and validity (rows with valid 0 are null). */
export function float64Vector(values: Float64Array, valid: Uint8Array | null): Vector {
  const n = values.length;
  const { nullBitmap, nullCount } = packValidity(valid, n);
  return makeVector(makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: values }));
}
