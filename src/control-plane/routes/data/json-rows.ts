import type { RecordBatch } from 'apache-arrow';
import { rowsOf } from '../../../core/batch.js';

/** A value of an Arrow row as plain JSON: 64-bit integers as numbers when safe, else strings. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value && typeof value === 'object' && 'toJSON' in value && typeof value.toJSON === 'function') return jsonValue(value.toJSON());
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** The rows of a batch as JSON objects. */
export function jsonRows(batch: RecordBatch): Record<string, unknown>[] {
  return rowsOf(batch).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)])));
}

/** Column names and Arrow types of a batch. */
export function columnsOf(batch: RecordBatch): Array<{ name: string; type: string; nullable: boolean }> {
  return batch.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
}
