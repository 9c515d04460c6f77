import { Field, List, Schema, Struct, TimeUnit, Timestamp, Utf8, makeData, makeVector, type RecordBatch, type Vector } from 'apache-arrow';

/**
 * The changelog format every connector shares (see DESIGN.md): a changelog batch is a record
 * batch whose reserved columns say what happened to each row, and whose schema metadata names
 * the key the changes apply by. Reserved columns are never written as data.
 */

/** The operation of a row: one of {@link Op}'s letters. */
export const OP_COLUMN = '__op';
/** Commit time of the change at the source (microseconds, UTC), when the source has one. */
export const TS_COLUMN = '__ts';
/** Names of columns whose value the source could not read in this row (PostgreSQL: an unchanged TOAST value). */
export const UNCHANGED_COLUMN = '__unchanged';
/** Before-image of an update or delete (a struct of the value columns), when the source has one. */
export const BEFORE_COLUMN = '__before';
/** A row hash computed by a source that detects changes itself; a sync target stores it and never writes it. */
export const ROW_HASH_COLUMN = '__sync_hash';
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set([OP_COLUMN, TS_COLUMN, UNCHANGED_COLUMN, BEFORE_COLUMN]);

/** Schema metadata naming a changelog's key columns, as a JSON array of names. */
export const KEY_META = 'sluice.key';
/** Schema metadata naming the source table of a changelog batch (a CDC source reading many tables sets it; a sink may route by it). */
export const TABLE_META = 'sluice.table';

/**
 * Debezium's operation letters. A `truncate` row stands for a TRUNCATE of the whole table (its
 * data columns are null): the PostgreSQL sink empties the target, Kafka sends a Debezium `t` event
 * (nothing without the envelope), sinks that store rows as they come (file) keep it as a row.
 */
export const Op = { create: 'c', update: 'u', delete: 'd', read: 'r', truncate: 't' } as const;
export type ChangeOp = (typeof Op)[keyof typeof Op];

export function isReservedColumn(name: string): boolean {
  return RESERVED_COLUMNS.has(name);
}

/** The fields of a schema that hold data: all but the reserved changelog columns. */
export function dataFields(schema: Schema): Field[] {
  return schema.fields.filter((f) => !RESERVED_COLUMNS.has(f.name));
}

/** Key columns a batch declares in its schema metadata (a JSON array, or names separated by commas); none when absent. */
export function keyColumnsOf(schema: Schema): string[] {
  const declared = schema.metadata.get(KEY_META);
  if (!declared) return [];
  if (declared.startsWith('[')) return JSON.parse(declared) as string[];
  return declared
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Schema metadata declaring `key` as the key columns, added to `metadata` (left unchanged). */
export function keyMetadata(key: readonly string[], metadata?: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map(metadata);
  out.set(KEY_META, JSON.stringify(key));
  return out;
}

/** Reads the operation of each row; a records batch (no `__op`) reads as inserts. */
export function opReader(data: RecordBatch): (row: number) => ChangeOp {
  const ops = data.getChild(OP_COLUMN) as Vector | null;
  if (!ops) return () => Op.create;
  return (row) => (ops.get(row) as ChangeOp | null) ?? Op.create;
}

/** An `__op` column. The letters are ASCII, one byte each: the offsets are the row numbers. */
export function opVector(ops: ArrayLike<ChangeOp>): Vector<Utf8> {
  const length = ops.length;
  const data = new Uint8Array(length);
  const valueOffsets = new Int32Array(length + 1);
  for (let i = 0; i < length; i++) {
    data[i] = ops[i].charCodeAt(0);
    valueOffsets[i + 1] = i + 1;
  }
  return makeVector(makeData({ type: new Utf8(), length, nullCount: 0, valueOffsets, data }));
}

/**
 * The reserved fields a changelog of `fields` carries: `__op`, `__ts`, `__unchanged` and, when
 * the source has before-images, `__before` (a struct of `fields`, all nullable).
 */
export function changelogFields(fields: readonly Field[], options: { withBefore?: boolean } = {}): Field[] {
  return [
    new Field(OP_COLUMN, new Utf8(), false),
    new Field(TS_COLUMN, new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
    new Field(UNCHANGED_COLUMN, new List(new Field('item', new Utf8(), true)), true),
    ...(options.withBefore ? [new Field(BEFORE_COLUMN, new Struct(fields.map((f) => new Field(f.name, f.type, true))), true)] : []),
  ];
}
