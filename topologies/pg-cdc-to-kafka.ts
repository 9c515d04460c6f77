import { defineTopology } from '../src/topology/define-topology.js';

/**
 * PostgreSQL change data capture → Avro change events on Kafka, in Debezium's envelope
 * (`before`, `after`, `op`, `ts_ms`, `source`), keyed by the table's primary key (an Avro `Key`
 * record), with a tombstone after each delete so a compacted topic forgets deleted rows.
 * Schemas are registered as `<topic>-key` / `<topic>-value` in the registry at
 * `SCHEMA_REGISTRY_URL` (`sluice schema-registry` serves one); a column added to the table
 * registers a new, backward-compatible version. Needs `PGURL` (wal_level=logical),
 * `SCHEMA_REGISTRY_URL` and `KAFKA_BROKERS` (one host:port).
 *
 *   sluice schema-registry --port 8081 &
 *   PGURL=postgres://postgres@127.0.0.1:5432/shop SCHEMA_REGISTRY_URL=http://127.0.0.1:8081 \
 *   KAFKA_BROKERS=127.0.0.1:9092 sluice run topologies/pg-cdc-to-kafka.ts
 */
export default defineTopology({
  name: 'pg-cdc-to-kafka',
  description: 'public.customers changes as Debezium-style Avro events on Kafka',
  checkpoint: { store: 'file', path: '.sluice/checkpoints' },
  dead_letter: { type: 'file', config: { path: 'out/pg-cdc-to-kafka/dead-letter.ndjson', format: 'ndjson' } },
  nodes: {
    customers: {
      type: 'postgresql',
      description: 'Snapshot of the table, then its changes by logical replication.',
      config: {
        url: '${env:PGURL}',
        mode: 'cdc',
        tables: ['public.customers'],
        slot: 'sluice_customers_kafka',
        publication: 'sluice_customers_kafka',
      },
    },
    events: {
      type: 'kafka',
      inputs: ['customers'],
      description: 'One compacted-friendly topic of change events for the table.',
      config: {
        brokers: ['${env:KAFKA_BROKERS}'],
        topic: 'shop.public.customers',
        format: 'avro',
        schema_registry: { url: '${env:SCHEMA_REGISTRY_URL}' },
        envelope: 'debezium',
        tombstones: true,
      },
    },
  },
});
