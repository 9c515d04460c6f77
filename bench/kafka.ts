/**
 * Kafka → (light transform) → Kafka throughput: Sluice's runtime against a bare kafkajs
 * consume → transform → produce loop over the same input topic, in the same run.
 *
 *   node --import tsx bench/kafka.ts [messages]     (broker: bash scripts/services.sh up kafka)
 *
 * Last line: `RESULT kafka msgs_per_s=<n> vs_raw_kafkajs=<ratio>` (ratio = ours / raw).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { pino } from 'pino';
import '../src/connectors/kafka/index.js';
import '../src/transforms/index.js';
import { Type } from '@sinclair/typebox';
import { registry } from '../src/core/registry.js';
import { runTopology } from '../src/runtime/run-topology.js';
import { compileTopology } from '../src/topology/compile.js';

const MESSAGES = Number(process.argv[2] ?? 200_000);
const PARTITIONS = 4;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const TIMEOUT_MS = 300_000;
const kafka = new Kafka({ brokers: BROKERS, clientId: 'sluice-bench', logLevel: logLevel.NOTHING });
const out = (line: string) => process.stdout.write(`${line}\n`);

// Dead letters are not expected here; they go nowhere.
registry.connector({
  type: 'bench_null',
  description: 'discards',
  configSchema: Type.Object({}),
  createSink: () => ({ write: async () => undefined, close: async () => undefined }),
});

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

/** Waits until `name` holds every message; returns ms since `start`. */
async function waitFull(admin: Admin, name: string, start: number): Promise<number> {
  for (;;) {
    const offsets = await admin.fetchTopicOffsets(name);
    if (offsets.reduce((n, p) => n + Number(p.high), 0) >= MESSAGES) return performance.now() - start;
    if (performance.now() - start > TIMEOUT_MS) throw new Error(`${name}: timed out`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function raw(admin: Admin, input: string): Promise<number> {
  const output = await topic(admin, 'bench-raw-out');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: input, fromBeginning: true });
  const start = performance.now();
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: PARTITIONS,
    eachBatch: async ({ batch }) => {
      const messages = batch.messages.map((m) => {
        const row = JSON.parse(m.value!.toString()) as { qty: number; price: number };
        return { key: m.key, value: JSON.stringify({ ...row, total: row.qty * row.price }) };
      });
      await producer.send({ topic: output, acks: -1, compression: CompressionTypes.GZIP, messages });
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
    },
  });
  const ms = await waitFull(admin, output, start);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return ms;
}

async function sluice(admin: Admin, input: string): Promise<number> {
  const output = await topic(admin, 'bench-sluice-out');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const topology = compileTopology({
    name: `bench-kafka-${randomUUID().slice(0, 8)}`,
    checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
    dead_letter: { type: 'bench_null', config: {} },
    nodes: {
      in: { type: 'kafka', config: { brokers: BROKERS, topics: [input], group_id: `bench-sluice-${randomUUID()}` } },
      total: { type: 'map', inputs: ['in'], config: { compute: { total: 'qty * price' } } },
      out: { type: 'kafka', inputs: ['total'], config: { brokers: BROKERS, topic: output, key_columns: ['__key'] } },
    },
  });
  const stop = new AbortController();
  const start = performance.now();
  const running = runTopology(topology, { signal: stop.signal, logger: pino({ level: 'silent' }) });
  const ms = await waitFull(admin, output, start);
  stop.abort();
  const summary = await running;
  await rm(dir, { recursive: true, force: true });
  if (summary.status === 'failed') throw new Error(`sluice run failed: ${summary.error ?? ''}`);
  return ms;
}

const admin = kafka.admin();
await admin.connect();
const input = await topic(admin, 'bench-in');
await fill(input);
out(`input: ${MESSAGES} JSON messages in ${PARTITIONS} partitions`);
const rawMs = await raw(admin, input);
const rawRate = Math.round((MESSAGES * 1000) / rawMs);
out(`raw kafkajs consume→transform→produce: ${rawRate} msgs/s`);
const oursMs = await sluice(admin, input);
const oursRate = Math.round((MESSAGES * 1000) / oursMs);
out(`sluice kafka→map→kafka: ${oursRate} msgs/s`);
await admin.disconnect();
out(`RESULT kafka msgs_per_s=${oursRate} vs_raw_kafkajs=${(oursRate / rawRate).toFixed(2)}`);
