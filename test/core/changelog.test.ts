import { describe, expect, it } from 'vitest';
import { Field, Int32, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import {
  BEFORE_COLUMN,
  KEY_META,
  OP_COLUMN,
  Op,
  TS_COLUMN,
  UNCHANGED_COLUMN,
  changelogFields,
  dataFields,
  isReservedColumn,
  keyColumnsOf,
  keyMetadata,
  opReader,
  opVector,
} from '../../src/core/changelog.js';
import { recordBatchOf } from '../../src/transforms/arrow-ops.js';

describe('changelog format', () => {
  it("uses Debezium's operation letters", () => {
    expect(Op).toEqual({ create: 'c', update: 'u', delete: 'd', read: 'r', truncate: 't' });
  });

  it('declares key columns in schema metadata and reads them back (JSON array or names separated by commas)', () => {
    const metadata = keyMetadata(['tenant', 'id'], new Map([['other', 'kept']]));
    expect(metadata.get(KEY_META)).toBe('["tenant","id"]');
    expect(metadata.get('other')).toBe('kept');
    expect(keyColumnsOf(new Schema([], metadata))).toEqual(['tenant', 'id']);
    expect(keyColumnsOf(new Schema([], new Map([[KEY_META, 'a, b']])))).toEqual(['a', 'b']);
    expect(keyColumnsOf(new Schema([]))).toEqual([]);
  });

  it('adds the reserved columns, with a before-image only when asked, and strips them again', () => {
    const fields = [new Field('id', new Int32(), false), new Field('name', new Utf8(), true)];
    const plain = changelogFields(fields);
    expect(plain.map((f) => f.name)).toEqual([OP_COLUMN, TS_COLUMN, UNCHANGED_COLUMN]);
    const full = changelogFields(fields, { withBefore: true });
    expect(full.map((f) => f.name)).toEqual([OP_COLUMN, TS_COLUMN, UNCHANGED_COLUMN, BEFORE_COLUMN]);
    expect(String(full[3].type)).toBe('Struct<{id:Int32, name:Utf8}>');
    expect(full[3].type.children.every((f: Field) => f.nullable)).toBe(true);
    expect(dataFields(new Schema([...fields, ...full])).map((f) => f.name)).toEqual(['id', 'name']);
    expect(['__op', '__ts', '__unchanged', '__before', '__key', 'id'].map(isReservedColumn)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('builds the op column and reads it, a records batch reading as inserts', () => {
    const ops = opVector([Op.create, Op.update, Op.delete, Op.read, Op.truncate]);
    expect(ops.toJSON()).toEqual(['c', 'u', 'd', 'r', 't']);
    const ids = vectorFromArray([1, 2, 3, 4, 5], new Int32());
    const changelog = recordBatchOf(new Schema([new Field('id', new Int32()), new Field(OP_COLUMN, new Utf8(), false)]), [ids, ops], 5);
    const read = opReader(changelog);
    expect([0, 1, 2, 3, 4].map(read)).toEqual(['c', 'u', 'd', 'r', 't']);
    const records = recordBatchOf(new Schema([new Field('id', new Int32())]), [ids], 5);
    expect(opReader(records)(3)).toBe('c');
  });
});
