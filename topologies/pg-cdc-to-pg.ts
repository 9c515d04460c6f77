import { defineTopology } from '../src/topology/define-topology.js';

/**
 * PostgreSQL → PostgreSQL replication by change data capture: a snapshot of the published
 * tables, then their changes by logical replication, applied to the target by key in commit
 * order (inserts, updates, deletes and TRUNCATE). One sink node takes every table: it routes each
 * changelog batch by its source table (`sluice.table`) to the table of the same name in
 * `target_schema`, created from the first batch when missing. A crash replays from the last
 * checkpoint; applying by key makes the replay invisible. Needs `PG_SOURCE_URL` (wal_level=logical)
 * and `PG_TARGET_URL`.
 *
 *   PG_SOURCE_URL=postgres://postgres@127.0.0.1:5432/shop PG_TARGET_URL=postgres://postgres@127.0.0.1:5432/replica \
 *   sluice run topologies/pg-cdc-to-pg.ts
 */
export default defineTopology({
  name: 'pg-cdc-to-pg',
  description: 'Tables of the source database kept equal in the target database',
  checkpoint: { store: 'file', path: '.sluice/checkpoints' },
  dead_letter: { type: 'file', config: { path: 'out/pg-cdc-to-pg/dead-letter.ndjson', format: 'ndjson' } },
  settings: { batch_size: 5_000, max_in_flight: 8 },
  nodes: {
    source: {
      type: 'postgresql',
      description: 'Every table of the publication (created for all tables when missing): snapshot, then changes.',
      config: { url: '${env:PG_SOURCE_URL}', mode: 'cdc', slot: 'sluice_pg_cdc_to_pg', publication: 'sluice_pg_cdc_to_pg' },
    },
    target: {
      type: 'postgresql',
      inputs: ['source'],
      description: 'Applies each change by primary key to public.<table> of the target.',
      config: { url: '${env:PG_TARGET_URL}', target_schema: 'public', create_table: true },
    },
  },
});
