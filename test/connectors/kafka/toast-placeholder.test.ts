import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/connectors/file/index.js';
import '../../../src/connectors/kafka/index.js';
import '../../../src/connectors/postgresql/index.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../../src/state/file-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';
import { createDatabase, sql } from '../postgresql/pg-helpers.js';
import { BROKERS, createTopic, deleteCreatedTopics, kafka, silent, uniqueName, until } from './kafka-helpers.js';

type Value = Record<string, unknown>;

describe('PostgreSQL CDC → kafka: unchanged TOAST values', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await deleteCreatedTopics();
  });

  it('carry the unavailable-value placeholder, never null, in Debezium events and in plain rows', async () => {
    const db = await createDatabase('kafka_toast');
    cleanups.push(db.drop);
    // REPLICA IDENTITY DEFAULT, and a body stored out of line uncompressed: an update of `title` leaves it unchanged in the WAL.
    await sql(db.url, 'create table docs (id int primary key, title text, body text, tags text[])');
    await sql(db.url, 'alter table docs alter column body set storage external, alter column tags set storage external');
    const body = 'x'.repeat(100_000);
    await sql(db.url, `insert into docs values (1, 'draft', '${body}', array_fill('t'::text, array[5000]))`);

    const events = await createTopic(1, 'sluice-toast-events');
    const rows = await createTopic(1, 'sluice-toast-rows');
    const dir = await mkdtemp(join(tmpdir(), 'sluice-toast-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const slot = uniqueName('toast').replace(/-/g, '_');
    const topology = compileTopology(
      {
        name: uniqueName('toast'),
        dead_letter: { type: 'file', config: { path: join(dir, 'dead-letters.ndjson'), format: 'ndjson' } },
        nodes: {
          docs: {
            type: 'postgresql',
            config: { url: db.url, mode: 'cdc', tables: ['public.docs'], slot, publication: slot, heartbeat_ms: 500 },
          },
          events: { type: 'kafka', inputs: ['docs'], config: { brokers: BROKERS, topic: events, envelope: 'debezium' } },
          rows: {
            type: 'kafka',
            inputs: ['docs'],
            config: { brokers: BROKERS, topic: rows, unavailable_value_placeholder: '<unavailable>' },
          },
        },
      },
      { env: {} },
    );
    const checkpoints = new FileCheckpointStore(join(dir, 'checkpoints'));
    const stop = new AbortController();
    const running = runTopology(topology, { signal: stop.signal, checkpoints, logger: silent });
    cleanups.push(async () => {
      stop.abort();
      await running;
      await checkpoints.close();
    });

    const seen = new Map<string, Value[]>([
      [events, []],
      [rows, []],
    ]);
    const consumer = kafka.consumer({ groupId: uniqueName('toast-check') });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topics: [events, rows], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => void seen.get(topic)!.push(JSON.parse(message.value!.toString()) as Value),
    });
    await until('the snapshot row on both topics', () => seen.get(events)!.length === 1 && seen.get(rows)!.length === 1, 60_000);

    await sql(db.url, "update docs set title = 'final' where id = 1");
    await until('the update on both topics', () => seen.get(events)!.length === 2 && seen.get(rows)!.length === 2, 60_000);

    const [snapshot, update] = seen.get(events)!;
    expect((snapshot.after as Value).body).toBe(body);
    expect(update).toMatchObject({ op: 'u' });
    expect(update.after).toEqual({ id: 1, title: 'final', body: '__debezium_unavailable_value', tags: ['__debezium_unavailable_value'] });
    // The configured placeholder, without an envelope.
    expect(seen.get(rows)![1]).toEqual({ id: 1, title: 'final', body: '<unavailable>', tags: ['<unavailable>'] });
  }, 120_000);
});
