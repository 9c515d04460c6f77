import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncEngine } from '../../src/sync/sync-engine.js';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { countWrites, createDatabase, datasources, dropRedisPrefix, engineFor, sql, uniquePrefix } from './helpers.js';

describe('incremental sync with many equal timestamps', () => {
  let source: Awaited<ReturnType<typeof createDatabase>>;
  let target: Awaited<ReturnType<typeof createDatabase>>;
  let engine: SyncEngine;
  const prefix = uniquePrefix('incremental');

  beforeAll(async () => {
    source = await createDatabase('sluice_sync_inc_src');
    target = await createDatabase('sluice_sync_inc_dst');
    // 4000 rows over only 4 distinct timestamps: every page boundary falls inside a run of equal values.
    // Source columns carry the names the seed's field_mapping renames.
    await sql(
      source.url,
      'create table metrics ("ResourceId" text, "MetricName" text, "MetricValue" float8, collected_at timestamptz not null, primary key ("ResourceId", "MetricName"))',
    );
    await sql(
      source.url,
      `insert into metrics select 'r' || lpad((g % 1000)::text, 4, '0'), 'm' || (g / 1000), g, timestamptz '2026-03-01' + (g % 4) * interval '1 hour' from generate_series(0, 3999) g`,
    );
    await sql(
      target.url,
      'create table metrics (resource_id text, metric_name text, value float8, collected_at timestamptz, primary key (resource_id, metric_name))',
    );
    await countWrites(target.url, 'metrics');
    await sql(
      target.url,
      "create or replace function log_write() returns trigger language plpgsql as $$ begin insert into write_log values (TG_TABLE_NAME, TG_OP, coalesce(new.resource_id, old.resource_id) || '/' || coalesce(new.metric_name, old.metric_name)); return null; end $$",
    );
    engine = engineFor(
      prefix,
      datasources({
        azure_monitor: { type: 'postgresql', config: { url: source.url, table: 'metrics', batch_size: 97 } },
        data_warehouse: { type: 'postgresql', config: { url: target.url, table: 'metrics' } },
      }),
    );
  });

  afterAll(async () => {
    await engine?.close();
    await dropRedisPrefix(prefix);
    await source?.drop();
    await target?.drop();
  });

  // The seed's document, verbatim, with the table names coming from the datasources.
  const rule = parseSyncRule({
    rule_id: 'azure_to_warehouse',
    name: 'Azure Metrics to Data Warehouse',
    source: 'azure_monitor',
    target: 'data_warehouse',
    mode: 'incremental',
    filters: { timestamp_column: 'collected_at', primary_key: ['resource_id', 'metric_name'] },
    field_mapping: { ResourceId: 'resource_id', MetricName: 'metric_name', MetricValue: 'value' },
  });

  const all = 'select resource_id, metric_name, value, collected_at from metrics order by 1, 2';
  const allSource =
    'select "ResourceId" as resource_id, "MetricName" as metric_name, "MetricValue" as value, collected_at from metrics order by 1, 2';

  it('reads each row once across pages and runs, resuming at the watermark stored in Redis', async () => {
    const first = await engine.execute(rule);
    expect(first.error).toBeUndefined();
    expect(first).toMatchObject({ status: 'completed', rows_read: 4000, rows_inserted: 4000 });
    expect(await sql(target.url, all)).toEqual(await sql(source.url, allSource));

    // New rows at the watermark's own timestamp (keys after the last one read), later rows, and updates that move rows forward.
    await sql(
      source.url,
      "insert into metrics select 'r9' || lpad(g::text, 3, '0'), 'm9', g, timestamptz '2026-03-01 03:00' from generate_series(0, 249) g",
    );
    await sql(
      source.url,
      "insert into metrics select 'r' || lpad(g::text, 4, '0'), 'm5', g, timestamptz '2026-03-01 05:00' from generate_series(0, 299) g",
    );
    await sql(
      source.url,
      `update metrics set "MetricValue" = -"MetricValue" - 1, collected_at = timestamptz '2026-03-01 05:00' where "MetricName" = 'm0' and "ResourceId" < 'r0100'`,
    );
    await sql(target.url, 'truncate write_log');

    const second = await engine.execute(rule);
    // Exactly the 650 new or moved rows are read: nothing before the watermark is read again.
    expect(second).toMatchObject({ status: 'completed', rows_read: 650, rows_inserted: 550, rows_updated: 100, rows_unchanged: 0 });
    expect(await sql(target.url, all)).toEqual(await sql(source.url, allSource));
    const writes = await sql<{ n: number; keys: number }>(
      target.url,
      'select count(*)::int as n, count(distinct id)::int as keys from write_log',
    );
    expect(writes[0]).toEqual({ n: 650, keys: 650 });

    const third = await engine.execute(rule);
    expect(third).toMatchObject({ rows_read: 0, rows_inserted: 0, rows_updated: 0 });
  });
});
