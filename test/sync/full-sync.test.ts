import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/core/metrics.js';
import type { SyncEngine } from '../../src/sync/sync-engine.js';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { countWrites, createDatabase, datasources, dropRedisPrefix, engineFor, sql, uniquePrefix } from './helpers.js';

describe('full sync (PostgreSQL → PostgreSQL, keyed state in Redis)', () => {
  let source: Awaited<ReturnType<typeof createDatabase>>;
  let target: Awaited<ReturnType<typeof createDatabase>>;
  let engine: SyncEngine;
  const prefix = uniquePrefix('full');

  beforeAll(async () => {
    source = await createDatabase('sluice_sync_full_src');
    target = await createDatabase('sluice_sync_full_dst');
    await sql(source.url, 'create table items (id int primary key, name text, price numeric(10,2), updated_at timestamptz)');
    await sql(
      source.url,
      `insert into items select g, 'item ' || g, g * 1.5, timestamptz '2026-01-01' + g * interval '1 minute' from generate_series(1, 3000) g`,
    );
    await sql(target.url, 'create table items (id int primary key, name text, price numeric(10,2), updated_at timestamptz)');
    await sql(target.url, 'create table renamed (id int primary key, title text, price numeric(10,2), updated_at timestamptz)');
    await sql(target.url, 'create table archive (id int primary key, name text, price numeric(10,2), updated_at timestamptz)');
    await countWrites(target.url, 'items');
    engine = engineFor(
      prefix,
      datasources({ src: { type: 'postgresql', config: { url: source.url } }, dst: { type: 'postgresql', config: { url: target.url } } }),
    );
  });

  afterAll(async () => {
    await engine?.close();
    await dropRedisPrefix(prefix);
    await source?.drop();
    await target?.drop();
  });

  const rule = parseSyncRule({
    rule_id: 'items_full',
    name: 'Items',
    source: 'src',
    target: 'dst',
    mode: 'full',
    source_config: { table: 'items', batch_size: 500 },
    target_config: { table: 'items' },
  });

  async function sameRows(table = 'items', columns = 'id, name, price, updated_at'): Promise<void> {
    const expected = await sql(source.url, 'select id, name, price, updated_at from items order by id');
    expect(await sql(target.url, `select ${columns} from ${table} order by id`)).toEqual(
      expected.map((r) => (table === 'items' ? r : { id: r.id, title: r.name, price: r.price, updated_at: r.updated_at })),
    );
  }

  it('first run copies every row; a second run after changes writes only the changed rows', async () => {
    const first = await engine.execute(rule);
    expect(first).toMatchObject({
      status: 'completed',
      rows_read: 3000,
      rows_inserted: 3000,
      rows_updated: 0,
      rows_deleted: 0,
      state_keys: 3000,
    });
    await sameRows();

    await sql(target.url, 'truncate write_log');
    await sql(source.url, 'update items set price = price + 1 where id % 300 = 0'); // 10 rows
    await sql(source.url, 'update items set name = name where id <= 50'); // rewritten, same values: not a change
    await sql(source.url, 'delete from items where id between 101 and 105');
    await sql(source.url, "insert into items values (5001, 'new a', 1, now()), (5002, 'new b', null, null), (5003, '', 0, now())");
    const second = await engine.execute(rule);
    expect(second).toMatchObject({
      status: 'completed',
      rows_read: 2998,
      rows_inserted: 3,
      rows_updated: 10,
      rows_deleted: 5,
      rows_unchanged: 2985,
      state_keys: 2998,
    });
    await sameRows();
    const writes = await sql<{ op: string; id: string }>(target.url, 'select op, id from write_log order by op, id::int');
    const expected = [
      ...[101, 102, 103, 104, 105].map((id) => ({ op: 'DELETE', id: String(id) })),
      ...[5001, 5002, 5003].map((id) => ({ op: 'INSERT', id: String(id) })),
      ...Array.from({ length: 10 }, (_, i) => ({ op: 'UPDATE', id: String((i + 1) * 300) })),
    ];
    expect(writes).toEqual(expected);

    await sql(target.url, 'truncate write_log');
    const third = await engine.execute(rule);
    expect(third).toMatchObject({ rows_inserted: 0, rows_updated: 0, rows_deleted: 0, rows_unchanged: 2998 });
    expect(await sql(target.url, 'select * from write_log')).toEqual([]);
  });

  it('applies field_mapping and keeps history and status', async () => {
    const mapped = parseSyncRule({
      rule_id: 'items_mapped',
      name: 'Mapped',
      source: 'src',
      target: 'dst',
      mode: 'full',
      filters: { primary_key: ['id'] },
      field_mapping: { name: 'title' },
      source_config: { table: 'items' },
      target_config: { table: 'renamed' },
    });
    const run = await engine.execute(mapped);
    expect(run).toMatchObject({ status: 'completed', rows_inserted: 2998 });
    await sameRows('renamed', 'id, title, price, updated_at');
    await sql(source.url, 'delete from items where id = 3000');
    expect(await engine.execute(mapped)).toMatchObject({ status: 'completed', rows_inserted: 0, rows_deleted: 1, rows_unchanged: 2997 });
    await sameRows('renamed', 'id, title, price, updated_at');
    const status = await engine.status('items_mapped');
    expect(status).toMatchObject({
      rule_id: 'items_mapped',
      running: false,
      total_syncs: 2,
      successful_syncs: 2,
      failed_syncs: 0,
      state: { keys: 2997 },
    });
    expect(status.state.bytes).toBeGreaterThan(0);
    expect(status.last_run?.rows_deleted).toBe(1);
    expect((await engine.store.history('items_mapped')).map((r) => r.run_id)).toContain(run.run_id);
    const exposition = await metricsRegistry.metrics();
    expect(exposition).toContain('sluice_sync_rows_total{rule="items_mapped",outcome="inserted"} 2998');
    expect(exposition).toContain('sluice_sync_state_keys{rule="items_mapped"} 2997');
  });

  it('keeps deletes from the target when filters.operations leaves DELETE out', async () => {
    const archive = parseSyncRule({
      rule_id: 'items_archive',
      name: 'Archive',
      source: 'src',
      target: 'dst',
      mode: 'full',
      filters: { primary_key: ['id'], operations: ['INSERT', 'UPDATE'] },
      source_config: { table: 'items' },
      target_config: { table: 'archive' },
    });
    expect(await engine.execute(archive)).toMatchObject({ rows_inserted: 2997, rows_filtered: 0 });
    await sql(source.url, 'delete from items where id in (1, 2)');
    await sql(source.url, "update items set name = 'renamed' where id = 3");
    expect(await engine.execute(archive)).toMatchObject({ rows_inserted: 0, rows_updated: 1, rows_deleted: 0, rows_filtered: 2 });
    expect(await sql(target.url, 'select id, name from archive where id <= 3 order by id')).toEqual([
      { id: 1, name: 'item 1' },
      { id: 2, name: 'item 2' },
      { id: 3, name: 'renamed' },
    ]);
  });

  it('records a failed run with its error and refuses a second concurrent run of a rule', async () => {
    const broken = parseSyncRule({
      rule_id: 'broken',
      name: 'Broken',
      source: 'src',
      target: 'dst',
      source_config: { table: 'no_such_table' },
      target_config: { table: 'items' },
    });
    const run = await engine.execute(broken);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/no_such_table/);
    expect(run.errors).toBeGreaterThan(0);

    const first = engine.start(rule);
    await expect(engine.start(rule)).rejects.toThrow(/already running/);
    await (
      await first
    ).done;
  });
});
