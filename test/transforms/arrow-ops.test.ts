import {
  Bool,
  DateDay,
  Dictionary,
  FixedSizeList,
  Float64,
  Int32,
  List,
  Field,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
  FixedSizeBinary,
  Schema,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows, rowsOf } from '../../src/core/batch.js';
import { indicesOfMask, recordBatchOf, takeRows, takeVector, withColumns } from '../../src/transforms/arrow-ops.js';
import { typedBatch, valuesOf } from './expression/helpers.js';

describe('arrow-ops', () => {
  it('indicesOfMask lists the set positions in order', () => {
    expect([...indicesOfMask(Uint8Array.from([0, 1, 1, 0, 1]))]).toEqual([1, 2, 4]);
    expect(indicesOfMask(new Uint8Array(3)).length).toBe(0);
  });

  it('takeVector gathers flat, boolean, string, dictionary, wide and nested types with nulls, in any order', () => {
    const indices = Int32Array.from([3, 0, 0, 2]);
    const cases: [unknown[], ConstructorParameters<typeof Object>[0]][] = [
      [[1.5, null, 3, 4], new Float64()],
      [[1, 2, null, 4], new Int32()],
      [[true, false, null, true], new Bool()],
      [['a', 'bé', null, '😀'], new Utf8()],
      [['x', 'y', 'x', null], new Dictionary(new Utf8(), new Int32())],
      [[0, 86_400_000, null, 3 * 86_400_000], new DateDay()],
      [[1000, 2000, 3000, null], new TimestampMicrosecond()],
      [[[1, 2], null, [], [3]], new List(new Field('item', new Int32(), true))],
      [[[1, 2], [3, null], null, [5, 6]], new FixedSizeList(2, new Field('item', new Int32(), true))],
      [[Uint8Array.from([1, 2]), Uint8Array.from([3, 4]), null, Uint8Array.from([5, 6])], new FixedSizeBinary(2)],
    ];
    for (const [values, type] of cases) {
      const vector = vectorFromArray(values, type as never);
      const taken = takeVector(vector, indices);
      expect(String(taken.type)).toBe(String(vector.type));
      const normalize = (v: unknown) =>
        v && typeof v === 'object' && 'toArray' in v
          ? [...(v as { toArray(): Iterable<unknown> }).toArray()]
          : v instanceof Uint8Array
            ? [...v]
            : v;
      expect(valuesOf(taken).map(normalize), String(type)).toEqual([3, 0, 0, 2].map((i) => normalize(vector.get(i))));
      // The same from a slice starting at row 1 (Arrow keeps an offset into the buffers).
      const fromSlice = takeVector(vector.slice(1), Int32Array.from([2, 0]));
      expect(valuesOf(fromSlice).map(normalize), `sliced ${String(type)}`).toEqual([3, 1].map((i) => normalize(vector.get(i))));
    }
  });

  it('takeRows keeps the schema; an identity selection returns the batch itself', () => {
    const data = typedBatch({ a: [[1, 2, 3], new Float64()], s: [['x', null, 'z'], new Utf8()] });
    expect(takeRows(data, Int32Array.from([0, 1, 2]))).toBe(data);
    const out = takeRows(data.slice(1, 3), Int32Array.from([1, 0]));
    expect(rowsOf(out)).toEqual([
      { a: 3, s: 'z' },
      { a: 2, s: null },
    ]);
    expect(out.schema.fields).toEqual(data.schema.fields);
  });

  it('withColumns replaces in place and appends, keeping schema metadata, without touching the input', () => {
    const base = recordBatchFromRows([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    const withMeta = recordBatchOf(new Schema(base.schema.fields, new Map([['k', 'v']])), [base.getChildAt(0)!, base.getChildAt(1)!]);
    const out = withColumns(withMeta, [
      { name: 'a', vector: vectorFromArray([10, 20], new Float64()) },
      { name: 'c', vector: vectorFromArray([true, null], new Bool()) },
    ]);
    expect(out.schema.fields.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    expect(out.schema.metadata.get('k')).toBe('v');
    expect(rowsOf(out)).toEqual([
      { a: 10, b: 'x', c: true },
      { a: 20, b: 'y', c: null },
    ]);
    expect(rowsOf(base)).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
  });
});
