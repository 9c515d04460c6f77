import { defineTopology } from '../src/topology/define-topology.js';

/**
 * PostgreSQL incremental extract → Parquet: rows of `public.orders` whose `updated_at` moved past
 * the stored watermark (cursor column + key, so rows sharing a timestamp are neither lost nor
 * read twice), polled every 5 seconds, each batch a Parquet part file under `out/pg-orders/`.
 * A restart resumes after the last watermark checkpointed and numbers its part files on.
 * Deletes are not seen (use CDC for them). Needs `PG_SOURCE_URL`.
 *
 *   PG_SOURCE_URL=postgres://postgres@127.0.0.1:5432/shop sluice run topologies/pg-incremental-to-parquet.ts
 */
export default defineTopology({
  name: 'pg-incremental-to-parquet',
  description: 'New and changed orders as Parquet part files',
  checkpoint: { store: 'file', path: '.sluice/checkpoints' },
  dead_letter: { type: 'file', config: { path: 'out/pg-orders/dead-letter.ndjson', format: 'ndjson' } },
  settings: { batch_size: 10_000 },
  nodes: {
    orders: {
      type: 'postgresql',
      description: 'Orders by (updated_at, id), after the last watermark; polls again once caught up.',
      config: {
        url: '${env:PG_SOURCE_URL}',
        mode: 'incremental',
        table: 'public.orders',
        cursor_column: 'updated_at',
        poll_interval_ms: 5_000,
      },
    },
    parquet: {
      type: 'file',
      inputs: ['orders'],
      description: 'One snappy Parquet part file per batch; a fresh run starts the directory over.',
      config: { path: 'out/pg-orders/', format: 'parquet' },
    },
  },
});
