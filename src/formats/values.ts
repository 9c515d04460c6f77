import { DataType, type RecordBatch, type Type } from 'apache-arrow';

/** Reads one row's value of a column. */
export type CellReader = (row: number) => unknown;

function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object' && 'toJSON' in value && typeof value.toJSON === 'function') return plain(value.toJSON());
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function isoOf(ms: unknown, dateOnly: boolean): string | null {
  if (ms === null || ms === undefined) return null;
  const iso = new Date(Number(ms)).toISOString();
  return dateOnly ? iso.slice(0, 10) : iso;
}

/**
 * JSON-safe readers for each column of a batch: Int64 as a number when it is exact, else a string;
 * timestamps and dates as ISO 8601 strings (UTC); binary as base64; nested values as plain JSON.
 */
export function jsonCellReaders(batch: RecordBatch): CellReader[] {
  return batch.schema.fields.map((field, c) => {
    const column = batch.getChildAt(c)!;
    const type = field.type as DataType<Type>;
    if (DataType.isTimestamp(type) || (DataType.isDate(type) && type.unit !== 0)) return (row) => isoOf(column.get(row), false);
    if (DataType.isDate(type)) return (row) => isoOf(column.get(row), true);
    if (DataType.isUtf8(type) || DataType.isFloat(type) || DataType.isBool(type)) return (row) => column.get(row) ?? null;
    return (row) => plain(column.get(row));
  });
}
