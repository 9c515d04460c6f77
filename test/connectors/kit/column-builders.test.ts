import { describe, expect, it } from 'vitest';
import {
  Binary,
  Bool,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  Null,
  Struct,
  TimeUnit,
  Timestamp,
  Uint8,
  Utf8,
  makeVector,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { makeColumnBuilder, vectorOf } from '../../../src/connectors/kit/columns/make-builder.js';

/**
 * The values Arrow's own builders make of the same input: the oracle for ours. Arrow reads only
 * `null` as null, ours `undefined` (and a missing struct field) too: the oracle gets explicit nulls.
 */
function arrowOwn(type: DataType, values: unknown[]): unknown[] {
  const names = type instanceof Struct ? type.children.map((f) => f.name) : undefined;
  const explicit = values.map((v) =>
    v === undefined ? null : names && v !== null ? Object.fromEntries(names.map((n) => [n, (v as Record<string, unknown>)[n] ?? null])) : v,
  );
  return [...vectorFromArray(explicit, type)].map(plain);
}

/** Arrow rows, lists and bytes as plain objects and arrays, to compare by value. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return [...value];
  if ('toArray' in value && typeof value.toArray === 'function') return [...(value.toArray() as Iterable<unknown>)].map(plain);
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

const cases: Array<[string, DataType, unknown[]]> = [
  ['Bool', new Bool(), [true, null, false, true, undefined, false, true, true, false]],
  ['Int16', new Int16(), [1, -2, null, 32767]],
  ['Int32', new Int32(), [1, null, -2147483648, 7]],
  ['Int64', new Int64(), [1n, null, -(2n ** 63n), 2n ** 63n - 1n]],
  ['Float32', new Float32(), [1.5, null, -0.25]],
  ['Float64', new Float64(), [1.5, null, Number.MAX_VALUE, -0]],
  ['Utf8', new Utf8(), ['a', null, '', 'naïve — ✓ 𝄞', 'x'.repeat(1000)]],
  ['Binary', new Binary(), [new Uint8Array([1, 2]), null, new Uint8Array(0), Buffer.from('hello')]],
  ['List<Int32>', new List(new Field('item', new Int32(), true)), [[1, 2], null, [], [3, null]]],
  [
    'Struct',
    new Struct([new Field('a', new Float64(), true), new Field('b', new Utf8(), true)]),
    [{ a: 1, b: 'x' }, null, { a: null, b: 'y' }, { b: 'z' }],
  ],
];

describe('column builders', () => {
  it.each(cases)('build %s as Arrow builds it, nulls included', (_, type, values) => {
    const vector = vectorOf(type, values);
    expect(vector.type.toString()).toBe(type.toString());
    expect([...vector].map(plain)).toEqual(arrowOwn(type, values));
    expect(vector.nullCount).toBe(values.filter((v) => v === null || v === undefined).length);
  });

  it('grow past their initial capacity', () => {
    const n = 10_000;
    const ints = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i));
    const texts = ints.map((i) => (i === null ? null : `v${i}`));
    expect(vectorOf(new Int32(), ints).toJSON()).toEqual(ints);
    expect(vectorOf(new Utf8(), texts).toJSON()).toEqual(texts);
  });

  it('leave out the validity bitmap when nothing is null', () => {
    const data = vectorOf(new Float64(), [1, 2, 3]).data[0];
    expect(data.nullCount).toBe(0);
    expect(data.nullBitmap?.length ?? 0).toBe(0);
  });

  it('read Int64 from decimal strings and numbers, timestamps from counts of their unit or Dates', () => {
    expect(vectorOf(new Int64(), ['9007199254740993', 5, null]).toJSON()).toEqual([9007199254740993n, 5n, null]);
    const micros = vectorOf(new Timestamp(TimeUnit.MICROSECOND, 'UTC'), [new Date('2024-02-29T12:00:00.123Z'), 1n, null]);
    expect(micros.data[0].values[0]).toBe(BigInt(Date.parse('2024-02-29T12:00:00.123Z')) * 1000n);
    expect(micros.data[0].values[1]).toBe(1n);
    expect(micros.get(2)).toBeNull();
    const ms = vectorOf(new Timestamp(TimeUnit.MILLISECOND), ['1700000000000']);
    expect(ms.get(0)).toBe(1700000000000);
  });

  it('build day dates from Dates and day numbers', () => {
    const dates = vectorOf(new DateDay(), [new Date('1970-01-03T10:00:00Z'), 19782, null]);
    expect([...dates.data[0].values.subarray(0, 2)]).toEqual([2, 19782]);
    expect(dates.get(2)).toBeNull();
  });

  it('write non-string values into text columns as JSON text', () => {
    expect(vectorOf(new Utf8(), [{ a: 1n }, [1, 'x'], 12n ** 20n, new Uint8Array([255]), 'as is']).toJSON()).toEqual([
      '{"a":1}',
      '[1,"x"]',
      '"3833759992447475122176"',
      '"/w=="',
      'as is',
    ]);
  });

  it('start over empty after finish, so one builder makes many batches', () => {
    const builder = makeColumnBuilder(new List(new Field('item', new Utf8(), true)));
    builder.append(['a', null]).append(null);
    const first = makeVector(builder.finish());
    builder.append(['b']);
    const second = makeVector(builder.finish());
    expect(first.toJSON().map(plain)).toEqual([['a', null], null]);
    expect(second.toJSON().map(plain)).toEqual([['b']]);
    expect(builder.length).toBe(0);
  });

  it('keep a null struct row aligned in every child', () => {
    const vector = vectorOf(new Struct([new Field('a', new Int32(), true)]), [null, { a: 1 }]);
    expect(vector.data[0].children[0].length).toBe(2);
    expect(plain(vector.get(1))).toEqual({ a: 1 });
    expect(vector.get(0)).toBeNull();
  });

  it('build Null columns and refuse values in them', () => {
    expect(vectorOf(new Null(), [null, undefined]).nullCount).toBe(2);
    expect(() => vectorOf(new Null(), [1])).toThrow(/holds no values/);
  });

  it('refuse types no builder is written for', () => {
    expect(() => makeColumnBuilder(new Uint8())).toThrow(expect.objectContaining({ code: 'SLUICE_INTERNAL' }));
  });
});
