import { DataType, Field, makeData, makeVector, RecordBatch, Schema, Struct, vectorFromArray, type Data, type Vector } from 'apache-arrow';

/** Row indices where a mask is non-zero, in order. */
export function indicesOfMask(mask: Uint8Array): Int32Array {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  const indices = new Int32Array(count);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i]) indices[j++] = i;
  return indices;
}

/** Builds a record batch from a schema and one vector per field (all of the same length). */
export function recordBatchOf(schema: Schema, columns: Vector[], numRows = columns[0]?.length ?? 0): RecordBatch {
  const children = columns.map((column) => singleData(column));
  const data = makeData({ type: new Struct(schema.fields), length: numRows, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** The batch's columns as vectors, in schema order. */
export function columnsOf(batch: RecordBatch): Vector[] {
  return batch.schema.fields.map((_, i) => batch.getChildAt(i)!);
}

/**
 * A batch with some columns replaced or added: a name already present is replaced in place
 * (keeping its field metadata), a new name is appended. Never mutates the input.
 */
export function withColumns(batch: RecordBatch, updates: { name: string; vector: Vector }[]): RecordBatch {
  const fields = [...batch.schema.fields];
  const columns = columnsOf(batch);
  for (const { name, vector } of updates) {
    const index = fields.findIndex((f) => f.name === name);
    // Computed columns may hold nulls whatever the old field said.
    const field = new Field(name, vector.type, true, index >= 0 ? fields[index].metadata : undefined);
    if (index >= 0) {
      fields[index] = field;
      columns[index] = vector;
    } else {
      fields.push(field);
      columns.push(vector);
    }
  }
  return recordBatchOf(new Schema(fields, batch.schema.metadata), columns, batch.numRows);
}

/** Rows of a batch at the given indices, in that order (filters, sorts, samples). */
export function takeRows(batch: RecordBatch, indices: Int32Array): RecordBatch {
  if (indices.length === batch.numRows && indices.every((v, i) => v === i)) return batch;
  return recordBatchOf(
    batch.schema,
    columnsOf(batch).map((column) => takeVector(column, indices)),
    indices.length,
  );
}

/** Values of a vector at the given indices: buffers are copied directly for flat types. */
export function takeVector(vector: Vector, indices: Int32Array): Vector {
  return makeVector(takeData(singleData(vector), indices));
}

function singleData(vector: Vector): Data {
  if (vector.data.length === 1) return vector.data[0];
  // Several chunks: rebuild as one (rare, from concatenated tables).
  return vectorFromArray([...vector], vector.type).data[0];
}

function takeData(data: Data, indices: Int32Array): Data {
  const type = data.type as DataType;
  const n = indices.length;
  const { nullBitmap, nullCount } = takeValidity(data, indices);
  if (DataType.isNull(type)) return makeData({ type, length: n, nullCount: n });
  if (DataType.isBool(type)) {
    const source = data.values as Uint8Array;
    const bits = new Uint8Array(((n + 63) >> 6) << 3);
    for (let i = 0; i < n; i++) {
      const j = data.offset + indices[i];
      if ((source[j >> 3] >> (j & 7)) & 1) bits[i >> 3] |= 1 << (i & 7);
    }
    return makeData({ type, length: n, nullCount, nullBitmap, data: bits });
  }
  if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    const offsets = data.valueOffsets as Int32Array;
    const source = data.values as Uint8Array;
    const outOffsets = new Int32Array(n + 1);
    let bytes = 0;
    // Arrow JS slices offsets with the data (bitmaps are the ones read at data.offset).
    for (let i = 0; i < n; i++) {
      const j = indices[i];
      bytes += offsets[j + 1] - offsets[j];
      outOffsets[i + 1] = bytes;
    }
    const out = new Uint8Array(bytes);
    // Runs of consecutive rows are one copy; short single values are a byte loop (cheaper
    // than a subarray per row).
    for (let i = 0, p = 0; i < n;) {
      let last = i;
      while (last + 1 < n && indices[last + 1] === indices[last] + 1) last++;
      const from = offsets[indices[i]];
      const to = offsets[indices[last] + 1];
      if (to - from > 64) out.set(source.subarray(from, to), p);
      else for (let k = from; k < to; k++) out[p + k - from] = source[k];
      p += to - from;
      i = last + 1;
    }
    return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: outOffsets, data: out } as never);
  }
  if (DataType.isDictionary(type)) {
    // Keep the dictionary; only the indices move.
    const values = gatherFixed(data.values, 1, indices);
    return makeData({ type, length: n, nullCount, nullBitmap, data: values, dictionary: data.dictionary } as never);
  }
  if (DataType.isStruct(type)) {
    // Arrow slices struct children together with the parent, so their own offsets already apply.
    const children = data.children.map((child) => takeData(child, indices));
    return makeData({ type, length: n, nullCount, nullBitmap, children });
  }
  if ((DataType.isList(type) || DataType.isMap(type)) && data.valueOffsets instanceof Int32Array) {
    // Offsets point into the unsliced child: gather the child rows of each kept list.
    const offsets = data.valueOffsets;
    const outOffsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) outOffsets[i + 1] = outOffsets[i] + offsets[indices[i] + 1] - offsets[indices[i]];
    const childIndices = new Int32Array(outOffsets[n]);
    for (let i = 0, k = 0; i < n; i++) for (let c = offsets[indices[i]]; c < offsets[indices[i] + 1]; c++) childIndices[k++] = c;
    const child = takeData(data.children[0], childIndices);
    return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: outOffsets, child } as never);
  }
  if (DataType.isFixedSizeList(type)) {
    const size = type.listSize;
    const childIndices = new Int32Array(n * size);
    for (let i = 0; i < n; i++) for (let k = 0; k < size; k++) childIndices[i * size + k] = indices[i] * size + k;
    return makeData({ type, length: n, nullCount, nullBitmap, child: takeData(data.children[0], childIndices) });
  }
  const isFlat =
    data.children.length === 0 && data.valueOffsets === undefined && ArrayBuffer.isView(data.values) && !DataType.isUnion(type);
  if (isFlat) {
    // Fixed-width values (ints, floats, dates, timestamps, decimals): `stride` elements per row.
    const values = gatherFixed(data.values, data.stride, indices);
    return makeData({ type, length: n, nullCount, nullBitmap, data: values } as never);
  }
  // Unions, large strings and binaries: correct but row by row.
  const vector = makeVector(data);
  return vectorFromArray(
    Array.from(indices, (i) => vector.get(i)),
    type,
  ).data[0];
}

type Indexed = ArrayBufferView & { [i: number]: unknown; length: number };

function gatherFixed(source: ArrayBufferView, stride: number, indices: Int32Array): Indexed {
  const values = source as Indexed;
  const out = new (values.constructor as new (length: number) => Indexed)(indices.length * stride);
  if (stride === 1) {
    for (let i = 0; i < indices.length; i++) out[i] = values[indices[i]];
  } else {
    for (let i = 0; i < indices.length; i++) {
      const from = indices[i] * stride;
      for (let k = 0; k < stride; k++) out[i * stride + k] = values[from + k];
    }
  }
  return out;
}

function takeValidity(data: Data, indices: Int32Array): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return { nullBitmap: undefined, nullCount: 0 };
  const source = data.nullBitmap;
  const n = indices.length;
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const j = data.offset + indices[i];
    if ((source[j >> 3] >> (j & 7)) & 1) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullBitmap: undefined, nullCount: 0 } : { nullBitmap: bitmap, nullCount: nulls };
}
