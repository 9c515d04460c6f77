import { DataType, type Schema } from 'apache-arrow';
import type { Batch } from '../../core/batch.js';
import { rowsOf } from '../../core/batch.js';
import { BEFORE_COLUMN, OP_COLUMN, Op, TS_COLUMN, UNCHANGED_COLUMN, keyColumnsOf } from '../../core/changelog.js';
import { SluiceError } from '../../core/errors.js';
import { jsonText } from '../kit/json-text.js';

/** Debezium's default `unavailable.value.placeholder`. */
export const DEBEZIUM_UNAVAILABLE_VALUE = '__debezium_unavailable_value';

export interface OutgoingMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** One message before serialization: the key columns and the value (a row or a Debezium envelope). */
export interface ChangeRecord {
  /** Key column values, or null when the batch has no key. */
  key: Record<string, unknown> | null;
  /** The row, a Debezium envelope, or null for a tombstone. */
  value: Record<string, unknown> | null;
  headers: Record<string, string>;
}

export interface EncodeOptions {
  /** Key columns from config; else the batch's `sluice.key` metadata; else no key. */
  keyColumns?: string[];
  envelope: 'none' | 'debezium';
  tombstones: boolean;
  headers: Record<string, string>;
  /** Connector name in the Debezium `source` block. */
  name: string;
  /** Stands for values named in `__unchanged`, as Debezium's `unavailable.value.placeholder` does. */
  unavailablePlaceholder?: string;
}

/**
 * Kafka messages for a batch, as JSON. Keys: one key column gives its value as text, several a
 * JSON object (the Debezium envelope always uses a JSON object, as Debezium does).
 */
export function encodeBatch(batch: Batch, options: EncodeOptions): OutgoingMessage[] {
  const debezium = options.envelope === 'debezium';
  // JSON.stringify with a replacer is several times slower: use it only when a column needs it.
  const stringify = batch.data.schema.fields.every((f) => f.name.startsWith('__') || plainJson(f.type)) ? JSON.stringify : jsonText;
  return changeRecords(batch, options).map(({ key, value, headers }) => ({
    key: key === null ? null : keyText(key, debezium),
    value: value === null ? null : stringify(value),
    headers,
  }));
}

/** Types whose values JSON.stringify renders as jsonText would: no bigints, bytes or nested values. */
function plainJson(type: DataType): boolean {
  if (DataType.isDictionary(type)) return plainJson(type.dictionary);
  if (DataType.isInt(type)) return type.bitWidth < 64;
  return DataType.isFloat(type) || DataType.isBool(type) || DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isNull(type);
}

/**
 * The messages of a batch before serialization. Columns starting with `__` are Sluice metadata
 * and stay out of values. Headers: the static ones plus `sluice.stream` and, for changelogs,
 * `sluice.op`. A plain changelog delete is a tombstone; with the Debezium envelope a delete is an
 * event with `before` set, followed by a tombstone when `tombstones` is on.
 */
export function changeRecords(batch: Batch, options: EncodeOptions): ChangeRecord[] {
  const keyColumns = resolveKeyColumns(batch, options.keyColumns);
  const valueColumns = valueColumnsOf(batch.data.schema);
  const names = batch.data.schema.fields.map((f) => f.name);
  const placeholders = names.includes(UNCHANGED_COLUMN)
    ? placeholdersOf(batch.data.schema, options.unavailablePlaceholder ?? DEBEZIUM_UNAVAILABLE_VALUE)
    : undefined;
  const changelog = batch.meta.kind === 'changelog' && names.includes(OP_COLUMN);
  const debezium = options.envelope === 'debezium';
  // One headers object per distinct op, shared by the batch's messages (kafkajs only reads them).
  const headerSets = new Map<string | undefined, Record<string, string>>();
  const headersFor = (op: string | undefined): Record<string, string> => {
    let headers = headerSets.get(op);
    if (!headers) {
      headers = { ...options.headers, 'sluice.stream': batch.meta.stream, ...(op ? { 'sluice.op': op } : {}) };
      headerSets.set(op, headers);
    }
    return headers;
  };
  const out: ChangeRecord[] = [];
  for (const row of rowsOf(batch.data)) {
    const value: Record<string, unknown> = {};
    for (const name of valueColumns) value[name] = row[name];
    if (placeholders) markUnavailable(value, row[UNCHANGED_COLUMN], placeholders);
    const op = changelog ? String(row[OP_COLUMN]) : debezium ? Op.read : undefined;
    // A TRUNCATE concerns the whole table: a Debezium `t` event without key, nothing otherwise.
    if (op === Op.truncate && !debezium) continue;
    const key = op === Op.truncate ? null : keyOf(row, keyColumns);
    const headers = headersFor(changelog ? op : undefined);
    if (!debezium) {
      out.push({ key, value: op === Op.delete ? null : value, headers });
      continue;
    }
    const before = plainObject(row[BEFORE_COLUMN]);
    const envelope = {
      before: op === Op.truncate ? null : (before ?? (op === Op.delete ? value : null)),
      after: op === Op.delete || op === Op.truncate ? null : value,
      source: {
        version: 'sluice',
        connector: 'sluice',
        name: options.name,
        ts_ms: millis(row[TS_COLUMN]) ?? null,
        snapshot: op === Op.read ? 'true' : 'false',
        table: batch.meta.stream,
      },
      op,
      ts_ms: Date.now(),
    };
    out.push({ key, value: envelope, headers });
    if (op === Op.delete && options.tombstones && key !== null) out.push({ key, value: null, headers });
  }
  return out;
}

/**
 * The placeholder of each value column, in a value its type holds: the text for text columns, its
 * UTF-8 bytes for binary ones, a one-element list for text arrays. Other types (non-text arrays)
 * have none: their unavailable values are left out of the message.
 */
function placeholdersOf(schema: Schema, text: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const field of schema.fields) {
    const type = DataType.isDictionary(field.type) ? field.type.dictionary : field.type;
    if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) out.set(field.name, text);
    else if (DataType.isBinary(type) || DataType.isLargeBinary(type)) out.set(field.name, new TextEncoder().encode(text));
    else if (DataType.isList(type) && DataType.isUtf8(type.children[0].type)) out.set(field.name, [text]);
  }
  return out;
}

/** Puts the placeholder in for every column the row's `__unchanged` names: a null there would erase the value downstream. */
function markUnavailable(value: Record<string, unknown>, unchanged: unknown, placeholders: Map<string, unknown>): void {
  if (unchanged === null || unchanged === undefined) return;
  for (const name of unchanged as Iterable<string>) {
    if (!(name in value)) continue;
    if (placeholders.has(name)) value[name] = placeholders.get(name);
    else delete value[name];
  }
}

/** The key columns of a batch (config first, then changelog metadata), checked to exist. */
export function resolveKeyColumns(batch: Batch, configured: string[] | undefined): string[] {
  const keyColumns = configured ?? keyColumnsOf(batch.data.schema);
  const names = batch.data.schema.fields.map((f) => f.name);
  for (const key of keyColumns) {
    if (!names.includes(key))
      throw new SluiceError('SLUICE_SINK_FAILED', `key column ${key} is not in the batch (columns: ${names.join(', ')})`, {
        retriable: false,
      });
  }
  return keyColumns;
}

/** Columns that go into message values: all but Sluice's `__` metadata. */
export function valueColumnsOf(schema: Schema): string[] {
  return schema.fields.map((f) => f.name).filter((n) => !n.startsWith('__'));
}

/** An Arrow struct value (e.g. `__before`) as a plain object; null when absent. */
function plainObject(value: unknown): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  return (typeof json === 'function' ? json.call(value) : value) as Record<string, unknown>;
}

function keyOf(row: Record<string, unknown>, columns: string[]): Record<string, unknown> | null {
  if (columns.length === 0) return null;
  const key: Record<string, unknown> = {};
  for (const c of columns) key[c] = row[c];
  return key;
}

function keyText(key: Record<string, unknown>, asObject: boolean): string | null {
  const columns = Object.keys(key);
  if (columns.length === 1 && !asObject) {
    const v = key[columns[0]];
    return v === null || v === undefined ? null : typeof v === 'string' ? v : jsonText(v);
  }
  return jsonText(key);
}

function millis(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  // Microsecond timestamps come as fractional milliseconds; Debezium's ts_ms is whole.
  if (typeof value === 'number') return Math.floor(value);
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? undefined : parsed;
}
