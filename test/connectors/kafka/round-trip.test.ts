import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf, recordBatchFromRows, type Batch } from '../../../src/core/batch.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { KafkaSource } from '../../../src/connectors/kafka/source.js';
import { parseConnectorConfig } from '../../../src/core/definition-config.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/connectors/kafka/index.js';
import { Reading, config, connectorContext, createTopic, kafka, until, uniqueName, deleteCreatedTopics } from './kafka-helpers.js';

function recordsBatch(rows: Record<string, unknown>[], stream = 'orders'): Batch {
  return { data: recordBatchFromRows(rows), meta: { stream, partition: stream, position: undefined, kind: 'records' } };
}

describe('kafka sink → topic → kafka source', () => {
  afterAll(deleteCreatedTopics);

  it('is registered as type kafka and rejects a source config without topics', () => {
    const def = registry.getConnector('kafka');
    expect(def?.createSource && def.createSink).toBeTruthy();
    expect(() => parseConnectorConfig(def!, config({}), 'source')).toThrow(/topics/);
  });

  it('round-trips JSON rows keyed by a column across partitions, with metadata columns', async () => {
    const topic = await createTopic(3);
    const sink = new KafkaSink(config({ topic, key_columns: ['id'], headers: { team: 'orders' } }), connectorContext);
    const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, name: `n${i}`, amount: i * 1.5, vip: i % 2 === 0 }));
    await sink.write(recordsBatch(rows.slice(0, 25)));
    await sink.write(recordsBatch(rows.slice(25)));
    await sink.close();

    const source = new KafkaSource(config({ topics: [topic], group_id: uniqueName('g') }), connectorContext);
    const partitions = await source.partitions();
    expect(partitions).toEqual([`${topic}:0`, `${topic}:1`, `${topic}:2`]);
    const readings = partitions.map((p) => new Reading(source, p));
    await until('40 rows', () => readings.reduce((n, r) => n + r.rows, 0) === 40);
    readings.forEach((r) => r.stop());
    await source.close();

    const read = readings.flatMap((r) => r.batches.flatMap((b) => rowsOf(b.data)));
    expect(read.map((r) => ({ id: r.id, name: r.name, amount: r.amount, vip: r.vip })).sort((a, b) => Number(a.id) - Number(b.id))).toEqual(
      rows,
    );
    for (const row of read) expect(row.__key).toBe(String(row.id));
    // Same key, same partition, offsets in order; the position is the next offset.
    for (const [i, reading] of readings.entries()) {
      for (const batch of reading.batches) {
        const offsets = rowsOf(batch.data).map((r) => Number(r.__offset));
        expect(rowsOf(batch.data).every((r) => r.__partition === i)).toBe(true);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        expect(batch.meta.position).toBe(String(offsets[offsets.length - 1] + 1));
        expect(batch.meta.partition).toBe(`${topic}:${i}`);
      }
    }
    expect(readings.every((r) => r.completed)).toBe(true);

    // Headers reach the topic.
    const consumer = kafka.consumer({ groupId: uniqueName('check') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const headers: Record<string, string>[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        headers.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
      },
    });
    await until('headers of 40 messages', () => headers.length === 40);
    await consumer.disconnect();
    expect(headers[0]).toEqual({ team: 'orders', 'sluice.stream': 'orders' });
  });

  it('reads raw bytes as Binary key and value columns and dead-letters undecodable JSON', async () => {
    const topic = await createTopic(1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: Buffer.from([1, 2]), value: Buffer.from('{"ok":true}') },
        { key: null, value: Buffer.from('not json {') },
        { key: 'k', value: Buffer.from('42') },
      ],
    });
    await producer.disconnect();

    const raw = new KafkaSource(config({ topics: [topic], format: 'raw', group_id: uniqueName('g') }), connectorContext);
    const rawReading = new Reading(raw, `${topic}:0`);
    await until('3 raw rows', () => rawReading.rows === 3);
    rawReading.stop();
    await raw.close();
    const rawRows = rawReading.batches.flatMap((b) => rowsOf(b.data));
    expect(Buffer.from(rawRows[1].value as Uint8Array).toString()).toBe('not json {');
    expect([...(rawRows[0].key as Uint8Array)]).toEqual([1, 2]);
    expect(rawRows[1].key).toBeNull();

    const json = new KafkaSource(config({ topics: [topic], group_id: uniqueName('g') }), {
      node: 'reader',
      logger: connectorContext.logger,
    });
    const reading = new Reading(json, `${topic}:0`);
    await until('the whole partition', () => reading.batches.at(-1)?.meta.position === '3');
    reading.stop();
    await json.close();
    const rows = reading.batches.flatMap((b) => rowsOf(b.data));
    expect(rows.map((r) => [r.ok, r.value])).toEqual([
      [true, null],
      [null, 42],
    ]);
    const deadLetters = reading.batches.flatMap((b) => b.meta.deadLetters ?? []);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ node: 'reader', record: 'not json {', origin: { topic, partition: 0, offset: '1' } });
  });
});
