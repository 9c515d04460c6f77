import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { decodeAvroMessages, decodeMessages } from '../../../src/connectors/kafka/decode.js';

const where = { topic: 't', partition: 3, node: 'src' };

function message(offset: number, value: string | Buffer | null, key: string | null = null): KafkaMessage {
  return {
    offset: String(offset),
    timestamp: String(1_700_000_000_000 + offset),
    key: key === null ? null : Buffer.from(key),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

function columnTypes(data: { schema: { fields: Array<{ name: string; type: unknown }> } }): Record<string, string> {
  return Object.fromEntries(data.schema.fields.map((f) => [f.name, String(f.type)]));
}

describe('kafka message decoding', () => {
  it('json: object keys become typed columns, mixed and nested values JSON text, tombstones no row, bad JSON a dead letter', () => {
    const { data, deadLetters } = decodeMessages(
      [
        message(10, '{"id":1,"ok":true,"name":"a","mixed":1,"nested":{"x":[1,2]}}', 'k1'),
        message(11, null, 'gone'),
        message(12, 'not json'),
        message(13, '{"id":2.5,"mixed":"two","late":null}'),
        message(14, '"a string value"'),
      ],
      'json',
      where,
    );
    expect(columnTypes(data)).toEqual({
      id: 'Float64',
      ok: 'Bool',
      name: 'Utf8',
      mixed: 'Utf8',
      nested: 'Utf8',
      late: 'Utf8',
      value: 'Utf8',
      __key: 'Utf8',
      __partition: 'Int32',
      __offset: 'Int64',
      __timestamp: 'Timestamp<MILLISECOND>',
    });
    expect(data.toArray().map((r) => r.toJSON())).toEqual([
      {
        id: 1,
        ok: true,
        name: 'a',
        mixed: '1',
        nested: '{"x":[1,2]}',
        late: null,
        value: null,
        __key: 'k1',
        __partition: 3,
        __offset: 10n,
        __timestamp: 1_700_000_000_010,
      },
      {
        id: 2.5,
        ok: null,
        name: null,
        mixed: 'two',
        nested: null,
        late: null,
        value: null,
        __key: null,
        __partition: 3,
        __offset: 13n,
        __timestamp: 1_700_000_000_013,
      },
      {
        id: null,
        ok: null,
        name: null,
        mixed: null,
        nested: null,
        late: null,
        value: 'a string value',
        __key: null,
        __partition: 3,
        __offset: 14n,
        __timestamp: 1_700_000_000_014,
      },
    ]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ node: 'src', record: 'not json', origin: { topic: 't', partition: 3, offset: '12' } });
    expect(deadLetters[0].reason).toMatch(/^value is not JSON: /);
  });

  it('raw: binary key and value, nulls kept', () => {
    const { data } = decodeMessages([message(1, Buffer.from([0, 255]), 'k'), message(2, null)], 'raw', where);
    expect(columnTypes(data)).toMatchObject({ key: 'Binary', value: 'Binary', __partition: 'Int32', __offset: 'Int64' });
    expect([...data.getChild('value')!.get(0)]).toEqual([0, 255]);
    expect(data.getChild('value')!.get(1)).toBeNull();
    expect([...data.getChild('key')!.get(0)]).toEqual([...Buffer.from('k')]);
    expect(data.getChild('key')!.get(1)).toBeNull();
  });

  it('avro: longs as Int64, bytes and records as JSON text, an Avro key as JSON text', async () => {
    const registry = {
      async decode(buffer: Buffer) {
        if (buffer[0] !== 0) throw new Error('no magic byte');
        return buffer.length > 6 ? { id: 2n ** 60n, blob: Buffer.from([1, 2, 3]), rec: { a: 1n } } : { k: 7n };
      },
    };
    const avroKey = Buffer.from([0, 0, 0, 0, 1, 9]);
    const { data, deadLetters } = await decodeAvroMessages(
      [{ ...message(5, Buffer.from([0, 0, 0, 0, 1, 2, 3])), key: avroKey }, message(6, 'plain text')],
      registry,
      where,
    );
    expect(columnTypes(data)).toMatchObject({ id: 'Int64', blob: 'Utf8', rec: 'Utf8', __key: 'Utf8' });
    expect(data.get(0)!.toJSON()).toMatchObject({ id: 2n ** 60n, blob: '"AQID"', rec: '{"a":1}', __key: '{"k":7}' });
    expect(deadLetters.map((d) => d.origin)).toEqual([{ topic: 't', partition: 3, offset: '6' }]);
  });
});
