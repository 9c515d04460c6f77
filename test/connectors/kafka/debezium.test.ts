import { RecordBatch, Schema } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBatchFromRows, type Batch } from '../../../src/core/batch.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { config, connectorContext, createTopic, kafka, until, uniqueName, deleteCreatedTopics } from './kafka-helpers.js';

interface Seen {
  key: string | null;
  value: Record<string, unknown> | null;
  headers: Record<string, string>;
}

/** A changelog batch keyed by `id` (declared in schema metadata, as CDC sources do). */
function changelog(rows: Record<string, unknown>[]): Batch {
  const plain = recordBatchFromRows(rows);
  const data = new RecordBatch(new Schema(plain.schema.fields, new Map([['sluice.key', '["id"]']])), plain.data);
  return { data, meta: { stream: 'public.customers', partition: 'public.customers', position: '0/1', kind: 'changelog' } };
}

async function readTopic(topic: string, count: number): Promise<Seen[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('check') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Seen[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({
        key: message.key?.toString() ?? null,
        value: message.value ? (JSON.parse(message.value.toString()) as Record<string, unknown>) : null,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  await until(`${count} messages`, () => seen.length >= count);
  await consumer.disconnect();
  return seen;
}

const rows = [
  { id: 1, name: 'ada', __op: 'c', __ts: 1700000000000 },
  { id: 1, name: 'ada l.', __op: 'u', __ts: 1700000001000 },
  { id: 2, name: 'bob', __op: 'r', __ts: 1700000002000 },
  { id: 1, name: 'ada l.', __op: 'd', __ts: 1700000003000 },
];

describe('kafka sink change events', () => {
  afterAll(deleteCreatedTopics);

  it('writes Debezium envelopes keyed by the changelog key, with a tombstone after each delete', async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(config({ topic, envelope: 'debezium' }), connectorContext);
    const before = Date.now();
    await sink.write(changelog(rows));
    await sink.close();

    const seen = await readTopic(topic, 5);
    expect(seen.map((m) => [m.key, m.value?.op ?? null])).toEqual([
      ['{"id":1}', 'c'],
      ['{"id":1}', 'u'],
      ['{"id":2}', 'r'],
      ['{"id":1}', 'd'],
      ['{"id":1}', null],
    ]);
    const [created, , snapshot, deleted, tombstone] = seen;
    expect(created.value).toMatchObject({
      before: null,
      after: { id: 1, name: 'ada' },
      source: { ts_ms: 1700000000000, table: 'public.customers', snapshot: 'false' },
    });
    expect(Object.keys(created.value!).sort()).toEqual(['after', 'before', 'op', 'source', 'ts_ms']);
    expect(created.value!.ts_ms).toBeGreaterThanOrEqual(before);
    expect(snapshot.value).toMatchObject({ after: { id: 2, name: 'bob' }, source: { snapshot: 'true' } });
    expect(deleted.value).toMatchObject({ before: { id: 1, name: 'ada l.' }, after: null });
    expect(tombstone.value).toBeNull();
    expect(created.headers).toMatchObject({ 'sluice.op': 'c', 'sluice.stream': 'public.customers' });
  });

  it('without an envelope, writes rows keyed by the changelog key and deletes as tombstones', async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(config({ topic }), connectorContext);
    await sink.write(changelog(rows));
    await sink.close();
    const seen = await readTopic(topic, 4);
    expect(seen.map((m) => [m.key, m.value])).toEqual([
      ['1', { id: 1, name: 'ada' }],
      ['1', { id: 1, name: 'ada l.' }],
      ['2', { id: 2, name: 'bob' }],
      ['1', null],
    ]);
  });

  it('rejects a key column the batch does not have', async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(config({ topic, key_columns: ['nope'] }), connectorContext);
    await expect(sink.write(changelog(rows))).rejects.toMatchObject({ code: 'SLUICE_SINK_FAILED', retriable: false });
    await sink.close();
  });
});
