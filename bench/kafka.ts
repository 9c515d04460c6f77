/**
 * Kafka → (light transform) → Kafka throughput: Sluice's runtime against a bare kafkajs
 * consume → transform → produce loop over the same input topic, in the same run. The bare loop
 * batches as the runtime does: each fetched batch in chunks of the topology's batch size, each
 * chunk produced in requests of at most 512 KiB of values (the sink's `chunksOf`), one partition
 * at a time, gzip, idempotent producer, acks=all, offsets committed after each batch.
 * Then PostgreSQL CDC → Kafka: a backlog of inserts retained by a slot, drained through the CDC
 * source into the kafka sink as Avro Debezium events (schemas in an in-process registry).
 *
 *   node --import tsx bench/kafka.ts [messages]     (services: bash scripts/services.sh up kafka postgres)
 *
 * Last line: `RESULT kafka msgs_per_s=<n> vs_raw_kafkajs=<ratio> cdc_events_per_s=<n>` (ratio = ours / raw).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { pino } from 'pino';
import pg from 'pg';
import { concatMap, type Subscription } from 'rxjs';
import '../src/connectors/kafka/index.js';
import { KafkaConfigSchema } from '../src/connectors/kafka/config.js';
import { chunksOf } from '../src/connectors/kafka/produce-chunks.js';
import { startSchemaRegistry } from '../src/connectors/kafka/schema-registry/start-schema-registry.js';
import { KafkaSink } from '../src/connectors/kafka/sink.js';
import { CdcSource } from '../src/connectors/postgresql/cdc/cdc-source.js';
import { postgresConfigSchema } from '../src/connectors/postgresql/config.js';
import { parseConfig } from '../src/core/config.js';
import { Credits } from '../src/core/flow-control.js';
import '../src/transforms/index.js';
import { runTopology } from '../src/runtime/run-topology.js';
import { compileTopology } from '../src/topology/compile.js';
import { DISCARD } from './discard-sink.js';

const MESSAGES = Number(process.argv[2] ?? 200_000);
const CDC_ROWS = Number(process.env.BENCH_CDC_ROWS ?? 100_000);
const PGURL = process.env.PGURL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PARTITIONS = 4;
/** The runtime's default batch size (settings.batch_size). */
const BATCH_SIZE = 10_000;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const TIMEOUT_MS = 300_000;
const kafka = new Kafka({ brokers: BROKERS, clientId: 'sluice-bench', logLevel: logLevel.NOTHING });
const out = (line: string) => process.stdout.write(`${line}\n`);

// Dead letters are not expected here; they go nowhere.
async function topic(admin: Admin, prefix: string): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic: name, numPartitions: PARTITIONS }], waitForLeaders: true });
  return name;
}

async function fill(name: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < MESSAGES; i += 5000) {
    const messages = Array.from({ length: Math.min(5000, MESSAGES - i) }, (_, j) => {
      const n = i + j;
      return { key: String(n), value: JSON.stringify({ id: n, sku: `sku-${n % 977}`, qty: n % 13, price: (n % 1000) / 10 }) };
    });
    await producer.send({ topic: name, compression: CompressionTypes.GZIP, messages });
  }
  await producer.disconnect();
}

/** Waits until `name` holds `count` messages; returns ms since `start`. */
async function waitFull(admin: Admin, name: string, start: number, count: number): Promise<number> {
  for (;;) {
    const offsets = await admin.fetchTopicOffsets(name);
    if (offsets.reduce((n, p) => n + Number(p.high), 0) >= count) return performance.now() - start;
    if (performance.now() - start > TIMEOUT_MS) throw new Error(`${name}: timed out`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function raw(admin: Admin, input: string): Promise<number> {
  const output = await topic(admin, 'bench-raw-out');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 500 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: input, fromBeginning: true });
  const start = performance.now();
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (let i = 0; i < batch.messages.length; i += BATCH_SIZE) {
        const messages = batch.messages.slice(i, i + BATCH_SIZE).map((m) => {
          const row = JSON.parse(m.value!.toString()) as { qty: number; price: number };
          return { key: m.key, value: JSON.stringify({ ...row, total: row.qty * row.price }) };
        });
        for (const chunk of chunksOf(messages))
          await producer.send({ topic: output, acks: -1, compression: CompressionTypes.GZIP, messages: chunk });
      }
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
    },
  });
  const ms = await waitFull(admin, output, start, MESSAGES);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  await admin.deleteTopics({ topics: [output] });
  return ms;
}

async function sluice(admin: Admin, input: string): Promise<number> {
  const output = await topic(admin, 'bench-sluice-out');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const topology = compileTopology({
    name: `bench-kafka-${randomUUID().slice(0, 8)}`,
    checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
    dead_letter: { type: DISCARD, config: {} },
    nodes: {
      in: { type: 'kafka', config: { brokers: BROKERS, topics: [input], group_id: `bench-sluice-${randomUUID()}` } },
      total: { type: 'map', inputs: ['in'], config: { compute: { total: 'qty * price' } } },
      out: { type: 'kafka', inputs: ['total'], config: { brokers: BROKERS, topic: output, key_columns: ['__key'] } },
    },
  });
  const stop = new AbortController();
  const start = performance.now();
  const running = runTopology(topology, { signal: stop.signal, logger: pino({ level: 'silent' }) });
  const ms = await waitFull(admin, output, start, MESSAGES);
  stop.abort();
  const summary = await running;
  await rm(dir, { recursive: true, force: true });
  await admin.deleteTopics({ topics: [output] });
  if (summary.status === 'failed') throw new Error(`sluice run failed: ${summary.error ?? ''}`);
  return ms;
}

async function pgQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** PG CDC → Kafka (Avro, Debezium envelope): events/s draining a backlog of inserts. */
async function cdc(admin: Admin): Promise<number> {
  const db = `sluice_bench_kafka_${process.pid}`;
  const url = new URL(PGURL);
  url.pathname = `/${db}`;
  const output = await topic(admin, 'bench-cdc-out');
  const schemasTopic = `_schemas-bench-${randomUUID().slice(0, 8)}`;
  const logger = pino({ level: 'silent' });
  const registry = await startSchemaRegistry({ brokers: BROKERS, port: 0, topic: schemasTopic, logger });
  await pgQuery(PGURL, `create database ${db}`);
  try {
    await pgQuery(
      url.toString(),
      'create table events (id bigint primary key, n int, t text, ts timestamptz); create publication bench for table events',
    );
    await pgQuery(url.toString(), "select pg_create_logical_replication_slot('bench_kafka', 'pgoutput')");
    for (let from = 1; from <= CDC_ROWS; from += 10_000) {
      await pgQuery(
        url.toString(),
        `insert into events select g, g % 1000, 'event ' || g, now() from generate_series(${from}, ${Math.min(CDC_ROWS, from + 9999)}) g`,
      );
    }
    const source = new CdcSource(
      parseConfig(postgresConfigSchema, { url: url.toString(), mode: 'cdc', slot: 'bench_kafka', publication: 'bench', snapshot: 'never' }),
    );
    const sink = new KafkaSink(
      parseConfig(KafkaConfigSchema, {
        brokers: BROKERS,
        topic: output,
        format: 'avro',
        schema_registry: { url: registry.url },
        envelope: 'debezium',
      }),
      { node: 'events', logger },
    );
    await sink.open({ resuming: false, logger });
    const credits = new Credits(8);
    const controller = new AbortController();
    let rows = 0;
    let started = 0;
    let subscription: Subscription | undefined;
    await new Promise<void>((resolve, reject) => {
      subscription = source
        .read('bench_kafka', undefined, { flow: credits, signal: controller.signal, logger, batchSize: BATCH_SIZE })
        .pipe(
          concatMap(async (batch) => {
            // Timed from the first batch: connecting and starting replication are not throughput.
            started ||= performance.now();
            if (batch.data.numRows > 0) await sink.write(batch);
            rows += batch.data.numRows;
            await source.commit('bench_kafka', batch.meta.position!);
            credits.release();
            if (rows >= CDC_ROWS) resolve();
          }),
        )
        .subscribe({ error: reject });
    });
    const seconds = (performance.now() - started) / 1000;
    controller.abort();
    subscription?.unsubscribe();
    await source.close();
    await sink.close();
    out(`pg cdc → kafka (avro, debezium envelope): ${rows} events in ${seconds.toFixed(2)}s`);
    return Math.round(rows / seconds);
  } finally {
    await registry.close();
    await admin.deleteTopics({ topics: [output, schemasTopic] });
    await pgQuery(PGURL, `drop database if exists ${db} with (force)`).catch(() => undefined);
  }
}

const admin = kafka.admin();
await admin.connect();
const input = await topic(admin, 'bench-in');
await fill(input);
out(`input: ${MESSAGES} JSON messages in ${PARTITIONS} partitions`);
const rawMs = await raw(admin, input);
const rawRate = Math.round((MESSAGES * 1000) / rawMs);
out(`raw kafkajs consume→transform→produce (same batching): ${rawRate} msgs/s`);
const oursMs = await sluice(admin, input);
const oursRate = Math.round((MESSAGES * 1000) / oursMs);
out(`sluice kafka→map→kafka: ${oursRate} msgs/s`);
await admin.deleteTopics({ topics: [input] });
const cdcRate = await cdc(admin);
out(`pg cdc → kafka: ${cdcRate} events/s`);
await admin.disconnect();
out(`RESULT kafka msgs_per_s=${oursRate} vs_raw_kafkajs=${(oursRate / rawRate).toFixed(2)} cdc_events_per_s=${cdcRate}`);
