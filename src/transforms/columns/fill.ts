import { DataType, makeData, makeVector, Utf8, type Vector } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import { kindOfType, loadColumn, toVector, type Col, type Kind } from '../expression/columns.js';
import { parseTimestamp } from '../expression/coerce.js';

/** Which rows of a column are missing: null, or NaN in a float column (as pandas counts them). */
export function missingMask(vector: Vector): Uint8Array {
  const n = vector.length;
  const type = vector.type as DataType;
  const missing = new Uint8Array(n);
  if (DataType.isNull(type)) return missing.fill(1);
  // Validity straight from the bitmaps: no value is decoded.
  let row = 0;
  for (const data of vector.data) {
    const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
    if (bitmap && bitmap.length > 0) {
      for (let i = 0, j = data.offset; i < data.length; i++, j++) missing[row + i] = ((bitmap[j >> 3] >> (j & 7)) & 1) ^ 1;
    }
    if (DataType.isFloat(type) && ArrayBuffer.isView(data.values)) {
      const values = data.values as unknown as ArrayLike<number>;
      for (let i = 0; i < data.length; i++) if (values[i] !== values[i]) missing[row + i] = 1;
    }
    row += data.length;
  }
  return missing;
}

/** A value converted to the kind of a column; throws when it cannot be (text into a number column). */
export function valueForKind(value: unknown, kind: Kind, what: string): unknown {
  const fail = (): never => {
    throw new SluiceError('SLUICE_TRANSFORM_FAILED', `${what}: cannot put ${JSON.stringify(value)} in a ${kind} column`);
  };
  switch (kind) {
    case 'float':
    case 'int':
      return typeof value === 'number' || typeof value === 'bigint' ? Number(value) : fail();
    case 'bigint':
      return typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : fail();
    case 'timestamp': {
      if (typeof value === 'number') return value;
      const ms = typeof value === 'string' ? parseTimestamp(value) : value instanceof Date ? value.getTime() : NaN;
      return Number.isNaN(ms) ? fail() : ms;
    }
    case 'bool':
      return typeof value === 'boolean' ? value : fail();
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
        ? String(value)
        : fail();
  }
}

/**
 * A column with its missing rows filled, from a constant or (`forward`) the last value seen, which
 * `carry` holds across batches. Returns the input vector when nothing is missing. Strings come
 * out as Utf8 (dictionaries are decoded), small ints as Int32.
 */
export function fillMissing(vector: Vector, fill: { value: unknown } | { forward: { last: unknown } }, what: string): Vector {
  const missing = missingMask(vector);
  const n = vector.length;
  const kind = columnKind(vector);
  const hasMissing = missing.includes(1);
  if ('forward' in fill && !hasMissing) {
    if (n > 0) fill.forward.last = lastValue(loadColumn(vector, kind), n - 1);
    return vector;
  }
  if (!hasMissing) return vector;
  if (kind === 'null') {
    if ('forward' in fill) return vector;
    throw new SluiceError('SLUICE_TRANSFORM_FAILED', `${what}: the column has no type (all null) to fill`);
  }
  if (!('forward' in fill) && kind === 'string' && vector.data.length === 1 && DataType.isUtf8(vector.type as DataType)) {
    return fillUtf8(vector, missing, String(valueForKind(fill.value, kind, what)));
  }
  const col = loadColumn(vector, kind);
  const values = (Array.isArray(col.values) ? col.values.slice() : (col.values as Float64Array).slice()) as unknown[] & ArrayLike<unknown>;
  const valid = new Uint8Array(n);
  let last = 'forward' in fill ? fill.forward.last : valueForKind(fill.value, kind, what);
  for (let i = 0; i < n; i++) {
    if (!missing[i]) {
      valid[i] = 1;
      if ('forward' in fill) last = values[i];
    } else if (last !== undefined && last !== null) {
      values[i] = kind === 'bool' ? (last ? 1 : 0) : last;
      valid[i] = 1;
    }
  }
  if ('forward' in fill) fill.forward.last = last;
  return toVector({ kind, values, valid } as Col, n);
}

/** Fills a Utf8 column byte by byte: no string is decoded or re-encoded. */
function fillUtf8(vector: Vector, missing: Uint8Array, text: string): Vector {
  const data = vector.data[0];
  const n = vector.length;
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const fillBytes = Buffer.from(text, 'utf8');
  const outOffsets = new Int32Array(n + 1);
  let size = 0;
  for (let i = 0; i < n; i++) {
    size += missing[i] ? fillBytes.length : offsets[i + 1] - offsets[i];
    outOffsets[i + 1] = size;
  }
  const out = new Uint8Array(size);
  for (let i = 0, p = 0; i < n; i++) {
    if (missing[i]) {
      out.set(fillBytes, p);
      p += fillBytes.length;
    } else {
      for (let k = offsets[i], end = offsets[i + 1]; k < end; k++) out[p++] = bytes[k];
    }
  }
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: outOffsets, data: out }));
}

function lastValue(col: Col, i: number): unknown {
  return col.values === null ? undefined : (col.values as ArrayLike<unknown>)[i];
}

/** The kind a column is read and written as here (nested types read as text). */
export function columnKind(vector: Vector): Kind {
  const kind = kindOfType(vector.type as DataType);
  return kind === 'other' ? 'string' : kind;
}
