import {
  Bool,
  Decimal,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  TimeUnit,
  Timestamp,
  Uint32,
  Utf8,
  makeData,
  makeVector,
} from 'apache-arrow';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroRecordOf, decimalText } from '../../../src/connectors/kafka/avro-schema.js';
import { avroType } from '../../../src/connectors/kafka/avro-serializer.js';

describe('Avro schema of Arrow fields', () => {
  it('maps types, makes nullable columns optional unions, and the values encode', () => {
    const fields = [
      new Field('small', new Int16(), false),
      new Field('int', new Int32(), true),
      new Field('big', new Int64(), true),
      new Field('unsigned', new Uint32(), true),
      new Field('f32', new Float32(), true),
      new Field('f64', new Float64(), true),
      new Field('flag', new Bool(), true),
      new Field('text', new Dictionary(new Utf8(), new Int32()), true),
      new Field('at_ms', new Timestamp(TimeUnit.MILLISECOND), true),
      new Field('at_us', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
      new Field('amount', new Decimal(2, 12, 128), true),
      new Field('tags', new List(new Field('item', new Utf8(), true)), true),
    ];
    const record = avroRecordOf(fields, 'Value', 'sluice.t');
    const types = Object.fromEntries((record.schema.fields as Array<{ name: string; type: unknown }>).map((f) => [f.name, f.type]));
    expect(types).toEqual({
      small: 'int',
      int: ['null', 'int'],
      big: ['null', 'long'],
      unsigned: ['null', 'long'],
      f32: ['null', 'float'],
      f64: ['null', 'double'],
      flag: ['null', 'boolean'],
      text: ['null', 'string'],
      at_ms: ['null', { type: 'long', logicalType: 'timestamp-millis' }],
      at_us: ['null', { type: 'long', logicalType: 'timestamp-micros' }],
      amount: ['null', { type: 'string', 'sluice.type': 'decimal(12,2)' }],
      tags: ['null', 'string'],
    });
    const value = record.convert({
      small: 1,
      int: null,
      big: 2n ** 62n + 1n,
      unsigned: 4294967295,
      f32: 1.5,
      f64: 2.25,
      flag: true,
      text: 'x',
      at_ms: 1700000000123,
      at_us: 1700000000123.456,
      amount: '12345',
      tags: ['a', 'b'],
    });
    expect(value).toMatchObject({
      big: 2n ** 62n + 1n,
      at_ms: 1700000000123,
      at_us: 1700000000123456,
      amount: '123.45',
      tags: '["a","b"]',
      int: null,
    });
    const type = avroType(record.schema as avro.Schema);
    expect({ ...(type.fromBuffer(type.toBuffer(value)) as object) }).toEqual({ ...value, big: 2n ** 62n + 1n, unsigned: 4294967295n });
    // Other consumers read plain Avro longs: a safe value decodes as a number with avsc's defaults.
    const plain = avro.Type.forSchema(record.schema as avro.Schema);
    expect((plain.fromBuffer(type.toBuffer({ ...value, big: 42 })) as { big: number }).big).toBe(42);
  });

  it('rejects column names that are not Avro names', () => {
    expect(() => avroRecordOf([new Field('order-id', new Int32(), false)], 'Value', 'n')).toThrow(/order-id/);
  });

  it('places the decimal point of unscaled decimals', () => {
    expect([decimalText('12345', 2), decimalText('-5', 2), decimalText('7', 0), decimalText('-100', 3)]).toEqual([
      '123.45',
      '-0.05',
      '7',
      '-0.100',
    ]);
    const v = makeVector(makeData({ type: new Decimal(2, 10, 128), length: 1, nullCount: 0, data: new Uint32Array([12345, 0, 0, 0]) }));
    expect(decimalText(String(v.get(0)), 2)).toBe('123.45');
  });
});
