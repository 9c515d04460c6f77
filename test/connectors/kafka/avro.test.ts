import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Bool, DateDay, Float64, Int64, RecordBatch, Schema, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBatchFromRows, recordBatchFromTable, rowsOf, type Batch } from '../../../src/core/batch.js';
import type { DeadLetter } from '../../../src/core/dead-letter.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { KafkaSource } from '../../../src/connectors/kafka/source.js';
import { startSchemaRegistry, type RunningSchemaRegistry } from '../../../src/connectors/kafka/schema-registry/start-schema-registry.js';
import {
  BROKERS,
  config,
  connectorContext,
  createTopic,
  deleteCreatedTopics,
  kafka,
  Reading,
  silent,
  uniqueName,
  until,
  withAdmin,
} from './kafka-helpers.js';

const run = promisify(execFile);
const jars = join(process.env.SLUICE_SERVICES_DIR ?? resolve(import.meta.dirname, '../../../.services'), 'kafka', 'jars', '*');

const DAY = 86_400_000;
const rows = Array.from({ length: 25 }, (_, i) => ({
  // Beyond 2^53 for some rows: 64-bit values must survive exactly.
  id: i % 2 === 0 ? BigInt(1000 + i) : 2n ** 60n + BigInt(i),
  name: i % 5 === 0 ? null : `name-${i}-é`,
  price: i * 1.5,
  active: i % 2 === 0,
  at: 1_700_000_000_000 + i * 1000,
  day: 19_000 + i,
}));

/** The rows with ids a JS consumer decodes as plain numbers (avsc refuses longs beyond 2^53 by default). */
const safeRows = rows.map((r, i) => ({ ...r, id: BigInt(1000 + i) }));

function typedBatch(stream = 'items', values = rows): Batch {
  const table = new Table({
    id: vectorFromArray(
      values.map((r) => r.id),
      new Int64(),
    ),
    name: vectorFromArray(
      values.map((r) => r.name),
      new Utf8(),
    ),
    price: vectorFromArray(
      values.map((r) => r.price),
      new Float64(),
    ),
    active: vectorFromArray(
      values.map((r) => r.active),
      new Bool(),
    ),
    at: vectorFromArray(
      values.map((r) => r.at),
      new TimestampMillisecond(),
    ),
    day: vectorFromArray(
      values.map((r) => new Date(r.day * DAY)),
      new DateDay(),
    ),
  });
  return { data: recordBatchFromTable(table), meta: { stream, partition: stream, position: undefined, kind: 'records' } };
}

function plainBatch(values: Record<string, unknown>[]): Batch {
  return { data: recordBatchFromRows(values), meta: { stream: 'people', partition: 'people', position: undefined, kind: 'records' } };
}

/** Every message of a topic as raw buffers (kafkajs, not the connector). */
async function rawMessages(topic: string, count: number): Promise<Array<{ key: Buffer | null; value: Buffer | null }>> {
  const consumer = kafka.consumer({ groupId: uniqueName('avro-check') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Array<{ key: Buffer | null; value: Buffer | null }> = [];
  await consumer.run({ eachMessage: async ({ message }) => void seen.push({ key: message.key, value: message.value }) });
  await until(`${count} messages on ${topic}`, () => seen.length >= count);
  await consumer.disconnect();
  return seen;
}

describe('kafka avro through a Confluent-compatible registry', () => {
  const schemasTopic = uniqueName('_schemas-avro');
  let registry: RunningSchemaRegistry;
  const avroConfig = (values: Record<string, unknown>) => config({ format: 'avro', schema_registry: { url: registry.url }, ...values });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- registry JSON, checked field by field below
  const fetchJson = async (path: string): Promise<any> => (await fetch(`${registry.url}${path}`)).json();

  beforeAll(async () => {
    registry = await startSchemaRegistry({ brokers: BROKERS, port: 0, topic: schemasTopic, logger: silent });
  });

  afterAll(async () => {
    await registry?.close();
    await deleteCreatedTopics();
    await withAdmin((admin) => admin.deleteTopics({ topics: [schemasTopic] }));
  });

  it('round-trips typed rows: sink registers <topic>-key/-value, source decodes the wire format', async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(avroConfig({ topic, key_columns: ['id'] }), connectorContext);
    await sink.write(typedBatch());
    await sink.close();

    expect(await fetchJson('/subjects')).toEqual(expect.arrayContaining([`${topic}-key`, `${topic}-value`]));
    const value = await fetchJson(`/subjects/${topic}-value/versions/latest`);
    const fields = JSON.parse(value.schema).fields as Array<{ name: string; type: unknown }>;
    expect(fields.find((f) => f.name === 'at')!.type).toEqual(['null', { type: 'long', logicalType: 'timestamp-millis' }]);
    expect(fields.find((f) => f.name === 'day')!.type).toEqual(['null', { type: 'int', logicalType: 'date' }]);

    const source = new KafkaSource(avroConfig({ topics: [topic], group_id: uniqueName('avro-read') }), connectorContext);
    const reading = new Reading(source, `${topic}:0`);
    try {
      await until('all rows read back', () => reading.rows >= rows.length || reading.error !== undefined);
      expect(reading.error).toBeUndefined();
      const read = reading.batches.flatMap((b) => rowsOf(b.data));
      // Longs come back as Int64 (bigint), exact; timestamp-millis too (Avro logical types ride on longs).
      expect(read.map((r) => ({ id: r.id, name: r.name, price: r.price, active: r.active, at: Number(r.at), day: r.day }))).toEqual(rows);
      expect(reading.batches[0].data.schema.fields.find((f) => f.name === 'id')!.type.toString()).toBe('Int64');
      // Keys as JSON text: 64-bit values as numbers while exact, else as strings.
      expect(read.map((r) => JSON.parse(String(r.__key)))).toEqual(
        rows.map((r) => ({ id: r.id < 2n ** 53n ? Number(r.id) : String(r.id) })),
      );
    } finally {
      reading.stop();
      await source.close();
    }
  });

  it('registers a new version when a nullable column is added; a consumer on the old schema still decodes', async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(avroConfig({ topic }), connectorContext);
    await sink.write(plainBatch([{ name: 'ada', age: 36 }]));
    const v1 = await fetchJson(`/subjects/${topic}-value/versions/1`);
    await sink.write(plainBatch([{ name: 'bob', age: 41, email: 'bob@example.com' }]));
    await sink.close();

    expect(await fetchJson(`/subjects/${topic}-value/versions`)).toEqual([1, 2]);
    const [, second] = await rawMessages(topic, 2);
    const writerId = second.value!.readUInt32BE(1);
    expect(writerId).not.toBe(v1.id);
    // The old consumer: reader schema v1, writer schema fetched by the id in the message.
    const reader = avro.Type.forSchema(JSON.parse(v1.schema));
    const writer = avro.Type.forSchema(JSON.parse((await fetchJson(`/schemas/ids/${writerId}`)).schema));
    expect({ ...(reader.fromBuffer(second.value!.subarray(5), reader.createResolver(writer)) as object) }).toEqual({
      name: 'bob',
      age: 41,
    });
  });

  it('registers under a subject configured with another compatibility level', async () => {
    const topic = await createTopic(1);
    const put = await fetch(`${registry.url}/config/${topic}-value`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'FULL_TRANSITIVE' }),
    });
    expect(put.status).toBe(200);
    const sink = new KafkaSink(avroConfig({ topic }), connectorContext);
    await sink.write(plainBatch([{ sku: 'a', qty: 1 }]));
    await sink.write(plainBatch([{ sku: 'b', qty: 2, note: 'optional, so FULL accepts it' }]));
    await sink.close();
    expect(await fetchJson(`/subjects/${topic}-value/versions`)).toEqual([1, 2]);
    expect(await fetchJson(`/config/${topic}-value`)).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
  });

  it('dead-letters a batch whose schema is incompatible, naming the incompatibility', async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(avroConfig({ topic }), connectorContext);
    const letters: DeadLetter[] = [];
    await sink.open({ resuming: false, logger: silent, deadLetter: async (_batch, l) => void letters.push(...l) });
    await sink.write(plainBatch([{ sku: 'a', qty: 1 }]));
    // qty turns from a number into text: data written so far cannot be read with the new schema.
    await sink.write(
      plainBatch([
        { sku: 'b', qty: 'two' },
        { sku: 'c', qty: 'three' },
      ]),
    );
    await sink.write(plainBatch([{ sku: 'd', qty: 4 }]));
    await sink.close();

    expect(letters.map((l) => l.record)).toEqual([
      { sku: 'b', qty: 'two' },
      { sku: 'c', qty: 'three' },
    ]);
    expect(letters[0].reason).toContain(`${topic}-value`);
    expect(letters[0].reason).toMatch(/incompatible.*qty/);
    const messages = await rawMessages(topic, 2);
    expect(messages).toHaveLength(2);

    const strict = new KafkaSink(avroConfig({ topic }), connectorContext);
    await expect(strict.write(plainBatch([{ sku: 'e', qty: 'five' }]))).rejects.toMatchObject({ code: 'SLUICE_SCHEMA_INCOMPATIBLE' });
    await strict.close();
  });

  it('writes Debezium change events in Avro, with tombstones after deletes', async () => {
    const topic = await createTopic(1);
    const plain = recordBatchFromRows([
      { id: 1, name: 'ada', __op: 'c', __ts: 1700000000000 },
      { id: 1, name: 'ada l.', __op: 'u', __ts: 1700000001000 },
      { id: 1, name: 'ada l.', __op: 'd', __ts: 1700000002000 },
    ]);
    const data = new RecordBatch(new Schema(plain.schema.fields, new Map([['sluice.key', '["id"]']])), plain.data);
    const sink = new KafkaSink(avroConfig({ topic, envelope: 'debezium' }), connectorContext);
    await sink.write({ data, meta: { stream: 'public.people', partition: 'public.people', position: '0/1', kind: 'changelog' } });
    await sink.close();

    const messages = await rawMessages(topic, 4);
    const decode = async (buffer: Buffer) => {
      const schema = (await fetchJson(`/schemas/ids/${buffer.readUInt32BE(1)}`)).schema as string;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- registry JSON, checked field by field below
      return JSON.parse(JSON.stringify(avro.Type.forSchema(JSON.parse(schema)).fromBuffer(buffer.subarray(5)))) as Record<string, any>;
    };
    const events = await Promise.all(messages.slice(0, 3).map((m) => decode(m.value!)));
    expect(events.map((e) => [e.op, e.before, e.after])).toEqual([
      ['c', null, { id: 1, name: 'ada' }],
      ['u', null, { id: 1, name: 'ada l.' }],
      ['d', { id: 1, name: 'ada l.' }, null],
    ]);
    expect(events[0].source).toMatchObject({ connector: 'sluice', table: 'public.people', ts_ms: 1700000000000 });
    expect(await decode(messages[0].key!)).toEqual({ id: 1 });
    expect(messages[3].value).toBeNull();
    expect(await decode(messages[3].key!)).toEqual({ id: 1 });
  });

  it("Kafka's own console consumer reads the Avro output; decoded with the schema fetched over HTTP it matches the source", async () => {
    const topic = await createTopic(1);
    const sink = new KafkaSink(avroConfig({ topic, key_columns: ['id'] }), connectorContext);
    await sink.write(typedBatch('items', safeRows));
    await sink.close();

    const END = '|#sluice-end#|';
    const { stdout } = await run(
      'java',
      [
        '-Xmx128m',
        '-cp',
        jars,
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server',
        BROKERS[0],
        '--topic',
        topic,
        '--from-beginning',
        '--max-messages',
        String(safeRows.length),
        '--timeout-ms',
        '30000',
        '--property',
        `line.separator=${END}`,
      ],
      { timeout: 60_000, maxBuffer: 1 << 22, encoding: 'buffer' },
    );
    const values: Buffer[] = [];
    for (let at = 0, next = stdout.indexOf(END); next >= 0; at = next + END.length, next = stdout.indexOf(END, at))
      values.push(stdout.subarray(at, next));
    expect(values).toHaveLength(safeRows.length);
    const types = new Map<number, avro.Type>();
    const decoded = [];
    for (const value of values) {
      expect(value[0]).toBe(0);
      const id = value.readUInt32BE(1);
      if (!types.has(id)) {
        const response = await fetch(`${registry.url}/schemas/ids/${id}`);
        types.set(id, avro.Type.forSchema(JSON.parse(((await response.json()) as { schema: string }).schema)));
      }
      decoded.push({ ...(types.get(id)!.fromBuffer(value.subarray(5)) as object) });
    }
    expect(decoded).toEqual(safeRows.map((r) => ({ ...r, id: Number(r.id) })));
  });
});
