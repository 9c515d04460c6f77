import { DataType, makeVector, type Data, type RecordBatch } from 'apache-arrow';
import { textFormatter } from '../connectors/postgresql/pg-text.js';
import { fmix32 } from '../core/murmur.js';

const SEED_A = 0x2f6b1d93;
const SEED_B = 0x71c5e0a7;

/** One murmur3 round: folds a 32-bit word into a running hash. */
function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * A 64-bit hash of each row's values in `columns` (two murmur3 lanes with different seeds),
 * computed column by column from the Arrow buffers: fixed-width values by their bytes, strings
 * by their UTF-8 bytes, other types by their text. No per-row text or objects are built, so
 * hashing keeps up with reading. A row's hash changes when any value, its nullness, or the column
 * type changes; equal hashes for different values happen with odds near 2^-64 per changed row.
 */
export function rowHashes(data: RecordBatch, columns: string[]): string[] {
  const n = data.numRows;
  const a = new Int32Array(n).fill(SEED_A);
  const b = new Int32Array(n).fill(SEED_B);
  columns.forEach((name, c) => {
    let base = 0;
    for (const chunk of data.getChild(name)?.data ?? []) {
      hashChunk(chunk, base, a, b, c + 1);
      base += chunk.length;
    }
  });
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = fmix32(a[i]).toString(36) + '.' + fmix32(b[i]).toString(36);
  return out;
}

/**
 * Arrow slices value and offset buffers when it slices data, so they are indexed from 0; only
 * the validity and boolean bitmaps go by `data.offset`.
 */
function hashChunk(data: Data, base: number, a: Int32Array, b: Int32Array, column: number): void {
  const type = data.type as DataType;
  const nulls = data.nullCount > 0;
  const feed = (row: number, word: number) => {
    a[row] = mix(a[row], word);
    b[row] = mix(b[row], word ^ 0x5bd1e995);
  };
  for (let i = 0; i < data.length; i++) feed(base + i, nulls && !data.getValid(i) ? -column : column);

  if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < data.length; i++) {
      if (nulls && !data.getValid(i)) continue;
      const start = offsets[i];
      const end = offsets[i + 1];
      const row = base + i;
      feed(row, end - start);
      let p = start;
      for (; p + 4 <= end; p += 4) feed(row, bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24));
      let tail = 0;
      for (let s = 0; p < end; p++, s += 8) tail |= bytes[p] << s;
      if (tail !== 0) feed(row, tail);
    }
    return;
  }
  if (DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    for (let i = 0; i < data.length; i++) {
      const j = data.offset + i;
      if (!(nulls && !data.getValid(i))) feed(base + i, (bits[j >> 3] >> (j & 7)) & 1);
    }
    return;
  }
  const values = data.values as ArrayLike<number | bigint> & ArrayBufferView & { BYTES_PER_ELEMENT: number };
  const fixed =
    DataType.isInt(type) ||
    DataType.isFloat(type) ||
    DataType.isDate(type) ||
    DataType.isTimestamp(type) ||
    DataType.isTime(type) ||
    DataType.isDecimal(type) ||
    DataType.isDuration(type);
  if (fixed && values && values.byteOffset % 4 === 0) {
    const stride = data.stride;
    const width = values.BYTES_PER_ELEMENT * stride;
    if (width >= 4) {
      const words = new Int32Array(values.buffer, values.byteOffset, Math.floor(values.byteLength / 4));
      const perValue = width / 4;
      for (let i = 0; i < data.length; i++) {
        if (nulls && !data.getValid(i)) continue;
        const at = i * perValue;
        for (let w = 0; w < perValue; w++) feed(base + i, words[at + w]);
      }
    } else {
      for (let i = 0; i < data.length; i++) if (!(nulls && !data.getValid(i))) feed(base + i, Number(values[i * stride]));
    }
    return;
  }
  // Nested, dictionary and other types: hash their text form.
  const format = textFormatter(makeVector(data));
  for (let i = 0; i < data.length; i++) {
    const text = format(i);
    if (text === null) continue;
    feed(base + i, text.length);
    for (let p = 0; p < text.length; p += 2) feed(base + i, text.charCodeAt(p) | (p + 1 < text.length ? text.charCodeAt(p + 1) << 16 : 0));
  }
}
