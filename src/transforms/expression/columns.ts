import {
  Bool,
  DataType,
  DateDay,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Null,
  TimeUnit,
  TimestampMillisecond,
  Utf8,
  type Data,
  type Vector,
} from 'apache-arrow';

/**
 * Value kinds the evaluator computes with. `int` holds small integers (Int8..Int32, functions such
 * as `year`) in a Float64Array and is written back as Int32; `bigint` is Int64; `timestamp` is
 * epoch milliseconds in a Float64Array; `other` (decimal, binary, nested) only supports `is null`.
 */
export type Kind = 'float' | 'int' | 'bigint' | 'string' | 'bool' | 'timestamp' | 'null' | 'other';

/** One computed column: values plus a validity array (1 = valid), null when every row is valid. */
export type Col =
  | { kind: 'float' | 'int' | 'timestamp'; values: Float64Array; valid: Uint8Array | null }
  | { kind: 'bigint'; values: BigInt64Array; valid: Uint8Array | null }
  | { kind: 'string'; values: string[]; valid: Uint8Array | null }
  | { kind: 'bool'; values: Uint8Array; valid: Uint8Array | null }
  | { kind: 'null'; values: null; valid: Uint8Array | null }
  | { kind: 'other'; values: unknown[]; valid: Uint8Array | null };

export function isNumericKind(kind: Kind): boolean {
  return kind === 'float' || kind === 'int' || kind === 'bigint';
}

/** The kind a column of an Arrow type is read as. */
export function kindOfType(type: DataType): Kind {
  if (DataType.isDictionary(type)) return kindOfType(type.dictionary);
  if (DataType.isInt(type)) return type.bitWidth === 64 ? 'bigint' : type.bitWidth === 32 && !type.isSigned ? 'float' : 'int';
  if (DataType.isFloat(type)) return 'float';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return 'timestamp';
  if (DataType.isNull(type)) return 'null';
  return 'other';
}

/** Arrow type a computed column of this kind is written as. */
export function arrowTypeOf(kind: Kind): DataType {
  switch (kind) {
    case 'float':
      return new Float64();
    case 'int':
      return new Int32();
    case 'bigint':
      return new Int64();
    case 'string':
      return new Utf8();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond();
    case 'null':
      return new Null();
    case 'other':
      throw new Error('other values cannot be materialized');
  }
}

/** Reads one Arrow vector into the evaluator's representation (zero-copy for Float64 and Int64). */
export function loadColumn(vector: Vector, kind: Kind): Col {
  // Arrow JS slices value and offset buffers with the data; only bitmaps (validity, booleans)
  // are read at `data.offset + i`.
  const n = vector.length;
  const data = vector.data.length === 1 ? vector.data[0] : undefined;
  const valid = data ? validityOf(data) : validityByGet(vector);
  const type = vector.type as DataType;
  switch (kind) {
    case 'float':
    case 'int': {
      if (data && !DataType.isDictionary(type) && !(DataType.isFloat(type) && type.precision === 0)) {
        const raw = data.values.subarray(0, n);
        const values = raw instanceof Float64Array ? raw : Float64Array.from(raw as ArrayLike<number>);
        return { kind, values, valid };
      }
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = Number(vector.get(i) ?? 0);
      return { kind, values, valid };
    }
    case 'bigint': {
      if (data && data.values instanceof BigInt64Array) return { kind, values: data.values.subarray(0, n), valid };
      const values = new BigInt64Array(n);
      for (let i = 0; i < n; i++) values[i] = BigInt.asIntN(64, BigInt(vector.get(i) ?? 0));
      return { kind, values, valid };
    }
    case 'timestamp': {
      const values = new Float64Array(n);
      if (data && DataType.isTimestamp(type) && data.values instanceof BigInt64Array) {
        const scale =
          type.unit === TimeUnit.SECOND ? 1000 : type.unit === TimeUnit.MILLISECOND ? 1 : type.unit === TimeUnit.MICROSECOND ? 1e-3 : 1e-6;
        const raw = data.values;
        for (let i = 0; i < n; i++) values[i] = Number(raw[i]) * scale;
      } else if (data && type instanceof DateDay) {
        const raw = data.values as Int32Array;
        for (let i = 0; i < n; i++) values[i] = raw[i] * 86_400_000;
      } else {
        for (let i = 0; i < n; i++) {
          const v = vector.get(i) as unknown;
          values[i] = v instanceof Date ? v.getTime() : Number(v ?? 0);
        }
      }
      return { kind, values, valid };
    }
    case 'string':
      return { kind, values: loadStrings(vector, data), valid };
    case 'bool': {
      const values = new Uint8Array(n);
      if (data && DataType.isBool(type)) {
        const bits = data.values as Uint8Array;
        for (let i = 0, j = data.offset; i < n; i++, j++) values[i] = (bits[j >> 3] >> (j & 7)) & 1;
      } else {
        for (let i = 0; i < n; i++) values[i] = vector.get(i) ? 1 : 0;
      }
      return { kind, values, valid };
    }
    case 'null':
      return { kind, values: null, valid: new Uint8Array(n) };
    case 'other': {
      const values: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) values[i] = vector.get(i);
      return { kind, values, valid };
    }
  }
}

function loadStrings(vector: Vector, data: Data | undefined): string[] {
  const n = vector.length;
  const out: string[] = new Array(n);
  const type = vector.type as DataType;
  if (data && DataType.isDictionary(type) && data.dictionary) {
    // Decode each dictionary entry once, then map the indices.
    const dictionary = data.dictionary;
    const words: string[] = new Array(dictionary.length);
    for (let i = 0; i < dictionary.length; i++) words[i] = (dictionary.get(i) as string | null) ?? '';
    const indices = data.values as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) out[i] = words[Number(indices[i])] ?? '';
    return out;
  }
  if (data && DataType.isUtf8(type)) {
    const bytes = data.values as Uint8Array;
    const offsets = data.valueOffsets as Int32Array;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const start = offsets[0];
    const end = offsets[n];
    if (isAscii(bytes, start, end)) {
      // One decode for the whole column; each value is then a cheap slice of it.
      const whole = buffer.toString('latin1', start, end);
      for (let i = 0; i < n; i++) out[i] = whole.slice(offsets[i] - start, offsets[i + 1] - start);
    } else {
      for (let i = 0; i < n; i++) out[i] = buffer.toString('utf8', offsets[i], offsets[i + 1]);
    }
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = (vector.get(i) as string | null) ?? '';
  return out;
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

function validityOf(data: Data): Uint8Array | null {
  if (data.nullCount === 0) return null;
  const n = data.length;
  const valid = new Uint8Array(n);
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0) return DataType.isNull(data.type) ? valid : null;
  for (let i = 0, j = data.offset; i < n; i++, j++) valid[i] = (bitmap[j >> 3] >> (j & 7)) & 1;
  return valid;
}

function validityByGet(vector: Vector): Uint8Array | null {
  if (vector.nullCount === 0) return null;
  const valid = new Uint8Array(vector.length);
  for (let i = 0; i < vector.length; i++) valid[i] = vector.get(i) == null ? 0 : 1;
  return valid;
}

/** Packs a validity array into an Arrow null bitmap; undefined when nothing is null. */
export function packValidity(valid: Uint8Array | null, n: number): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (!valid) return { nullBitmap: undefined, nullCount: 0 };
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullBitmap: undefined, nullCount: 0 } : { nullBitmap: bitmap, nullCount: nulls };
}

/** Writes a computed column as an Arrow vector of `arrowTypeOf(col.kind)`. */
export function toVector(col: Col, n: number): Vector {
  switch (col.kind) {
    case 'float': {
      const { nullBitmap, nullCount } = packValidity(col.valid, n);
      return makeVector(makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: col.values }));
    }
    case 'int': {
      const { nullBitmap, nullCount } = packValidity(col.valid, n);
      return makeVector(makeData({ type: new Int32(), length: n, nullCount, nullBitmap, data: Int32Array.from(col.values) }));
    }
    case 'bigint': {
      const { nullBitmap, nullCount } = packValidity(col.valid, n);
      return makeVector(makeData({ type: new Int64(), length: n, nullCount, nullBitmap, data: col.values }));
    }
    case 'timestamp': {
      // Invalid dates (NaN) become nulls rather than garbage epochs.
      const valid = col.valid ? col.valid.slice() : new Uint8Array(n).fill(1);
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const ms = col.values[i];
        if (Number.isFinite(ms)) data[i] = BigInt(Math.trunc(ms));
        else valid[i] = 0;
      }
      const { nullBitmap, nullCount } = packValidity(valid, n);
      return makeVector(makeData({ type: new TimestampMillisecond(), length: n, nullCount, nullBitmap, data }));
    }
    case 'bool': {
      const { nullBitmap, nullCount } = packValidity(col.valid, n);
      const bits = new Uint8Array(((n + 63) >> 6) << 3);
      for (let i = 0; i < n; i++) if (col.values[i]) bits[i >> 3] |= 1 << (i & 7);
      return makeVector(makeData({ type: new Bool(), length: n, nullCount, nullBitmap, data: bits }));
    }
    case 'string':
      return utf8Vector(col.values, col.valid, n);
    case 'null':
      return makeVector(makeData({ type: new Null(), length: n, nullCount: n }));
    case 'other':
      throw new Error('other values cannot be materialized');
  }
}

/** Utf8 vector from strings, encoding into one buffer (invalid rows are empty). */
export function utf8Vector(values: string[], valid: Uint8Array | null, n: number): Vector {
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    if (!valid || valid[i]) bytes += Buffer.byteLength(values[i], 'utf8');
    offsets[i + 1] = bytes;
  }
  const data = new Uint8Array(bytes);
  const buffer = Buffer.from(data.buffer, 0, bytes);
  for (let i = 0; i < n; i++) if (!valid || valid[i]) buffer.write(values[i], offsets[i], 'utf8');
  const { nullBitmap, nullCount } = packValidity(valid, n);
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount, nullBitmap, valueOffsets: offsets, data }));
}
