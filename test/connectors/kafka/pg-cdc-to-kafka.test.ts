import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/connectors/kafka/index.js';
import '../../../src/connectors/postgresql/index.js';
import '../../../src/connectors/file/index.js';
import { startSchemaRegistry } from '../../../src/connectors/kafka/schema-registry/start-schema-registry.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../../src/state/file-checkpoint-store.js';
import { loadTopology } from '../../../src/topology/load-topology.js';
import { createDatabase, sql } from '../postgresql/pg-helpers.js';
import { BROKERS, kafka, silent, uniqueName, until, withAdmin } from './kafka-helpers.js';

const TOPIC = 'shop.public.customers';

interface Customer {
  id: number;
  name: string | null;
  email: string | null;
  balance: string | null;
}

describe('topologies/pg-cdc-to-kafka.ts: PostgreSQL CDC → Avro Debezium events on Kafka', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('the topic folded by key, tombstones applied, equals the source table', async () => {
    const db = await createDatabase('kafka_cdc');
    cleanups.push(db.drop);
    await sql(
      db.url,
      'create table customers (id int primary key, name text, email text, balance numeric(10,2), updated_at timestamptz default now())',
    );
    await sql(
      db.url,
      "insert into customers (id, name, email, balance) select g, 'customer ' || g, 'c' || g || '@example.com', g * 1.25 from generate_series(1, 200) g",
    );

    // The topology's fixed topic: start from an empty, compacted one.
    await withAdmin(async (admin) => {
      if ((await admin.listTopics()).includes(TOPIC)) await admin.deleteTopics({ topics: [TOPIC] });
      await until('the old topic gone', async () => !(await admin.listTopics()).includes(TOPIC));
      await admin.createTopics({
        topics: [{ topic: TOPIC, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        waitForLeaders: true,
      });
    });
    cleanups.push(() => withAdmin((admin) => admin.deleteTopics({ topics: [TOPIC] })));
    const schemasTopic = uniqueName('_schemas-cdc');
    const registry = await startSchemaRegistry({ brokers: BROKERS, port: 0, topic: schemasTopic, logger: silent });
    cleanups.push(() => withAdmin((admin) => admin.deleteTopics({ topics: [schemasTopic] })));
    cleanups.push(() => registry.close());
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cdc-kafka-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const topology = await loadTopology(resolve(import.meta.dirname, '../../../topologies/pg-cdc-to-kafka.ts'), {
      ...process.env,
      PGURL: db.url,
      SCHEMA_REGISTRY_URL: registry.url,
      KAFKA_BROKERS: BROKERS[0],
    });
    const checkpoints = new FileCheckpointStore(join(dir, 'checkpoints'));
    const stop = new AbortController();
    const running = runTopology(topology, { signal: stop.signal, checkpoints, logger: silent });
    cleanups.push(async () => {
      stop.abort();
      await running;
      await checkpoints.close();
    });

    // Fold the topic as a compacted-topic consumer would, decoding with schemas fetched by id.
    const types = new Map<number, avro.Type>();
    const decode = async (buffer: Buffer): Promise<Record<string, unknown>> => {
      const id = buffer.readUInt32BE(1);
      if (!types.has(id)) {
        const { schema } = (await (await fetch(`${registry.url}/schemas/ids/${id}`)).json()) as { schema: string };
        types.set(id, avro.Type.forSchema(JSON.parse(schema)));
      }
      return types.get(id)!.fromBuffer(buffer.subarray(5)) as Record<string, unknown>;
    };
    const state = new Map<number, Customer>();
    const ops = new Set<string>();
    const consumer = kafka.consumer({ groupId: uniqueName('fold') });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = (await decode(message.key!)) as { id: number };
        if (message.value === null) {
          state.delete(key.id);
          return;
        }
        const event = (await decode(message.value)) as { op: string; after: (Customer & Record<string, unknown>) | null };
        ops.add(event.op);
        if (event.op === 'd' || event.after === null) state.delete(key.id);
        else state.set(key.id, { id: event.after.id, name: event.after.name, email: event.after.email, balance: event.after.balance });
      },
    });

    const table = async () =>
      new Map(
        (await sql<Customer>(db.url, 'select id, name, email, balance::text as balance from customers order by id')).map((r) => [r.id, r]),
      );
    const matches = async () => {
      const rows = await table();
      return rows.size === state.size && [...rows].every(([id, row]) => JSON.stringify(state.get(id)) === JSON.stringify(row));
    };
    await until('the snapshot on the topic', matches, 90_000);

    // Changes while streaming: inserts, updates, deletes, and a key deleted then inserted again.
    await sql(db.url, "insert into customers (id, name, email, balance) select g, 'late ' || g, null, 0 from generate_series(201, 260) g");
    await sql(db.url, "update customers set name = name || ' (vip)', balance = balance + 100 where id % 7 = 0");
    await sql(db.url, 'delete from customers where id % 5 = 0');
    await sql(db.url, "insert into customers (id, name, email, balance) values (10, 'back again', 'back@example.com', 1.50)");
    await sql(db.url, "update customers set email = 'changed@example.com' where id = 11");
    await until('the changes on the topic', matches, 90_000);

    expect(ops).toEqual(new Set(['r', 'c', 'u', 'd']));
    const rows = await table();
    expect(state.size).toBe(rows.size);
    expect(state.get(10)).toEqual({ id: 10, name: 'back again', email: 'back@example.com', balance: '1.50' });
    expect(state.has(15)).toBe(false);
  }, 240_000);
});
