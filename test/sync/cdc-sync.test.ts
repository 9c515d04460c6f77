import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncEngine } from '../../src/sync/sync-engine.js';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { createDatabase, datasources, dropRedisPrefix, engineFor, sql, uniquePrefix } from './helpers.js';

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 50));
}

describe('CDC sync (logical replication → keyed changelog)', () => {
  let source: Awaited<ReturnType<typeof createDatabase>>;
  let target: Awaited<ReturnType<typeof createDatabase>>;
  let engine: SyncEngine;
  const prefix = uniquePrefix('cdc');

  beforeAll(async () => {
    source = await createDatabase('sluice_sync_cdc_src');
    target = await createDatabase('sluice_sync_cdc_dst');
    for (const db of [source, target]) await sql(db.url, 'create table policy_log (id int primary key, policy text, state text)');
    await sql(source.url, "insert into policy_log select g, 'policy ' || g, 'compliant' from generate_series(1, 100) g");
    engine = engineFor(
      prefix,
      datasources({
        azure_policy_log: {
          type: 'postgresql',
          config: { url: source.url, table: 'policy_log', heartbeat_ms: 200, max_batch_delay_ms: 20 },
        },
        compliance_db: { type: 'postgresql', config: { url: target.url, table: 'policy_log' } },
      }),
    );
  });

  afterAll(async () => {
    await engine?.close();
    await dropRedisPrefix(prefix);
    await source?.drop();
    await target?.drop();
  });

  // The seed's document, verbatim.
  const rule = parseSyncRule({
    rule_id: 'policy_changes_cdc',
    name: 'Policy Changes CDC',
    source: 'azure_policy_log',
    target: 'compliance_db',
    mode: 'cdc',
    filters: { change_timestamp: 'last_sync_time', operations: ['INSERT', 'UPDATE', 'DELETE'] },
  });
  const all = 'select * from policy_log order by id';
  const converged = async () => JSON.stringify(await sql(target.url, all)) === JSON.stringify(await sql(source.url, all));

  it('snapshots, then streams inserts, updates and deletes; a later run resumes at its checkpoint', async () => {
    const stop = new AbortController();
    const { done } = await engine.start(rule, { signal: stop.signal });
    await until(async () => (await sql<{ n: number }>(target.url, 'select count(*)::int as n from policy_log'))[0].n === 100);
    await sql(source.url, "insert into policy_log select g, 'policy ' || g, 'new' from generate_series(101, 105) g");
    await sql(source.url, "update policy_log set state = 'drifted' where id <= 10");
    await sql(source.url, 'delete from policy_log where id between 50 and 52');
    await until(converged);
    stop.abort();
    const first = await done;
    expect(first).toMatchObject({ status: 'stopped', mode: 'cdc', rows_inserted: 105, rows_updated: 10, rows_deleted: 3, state_keys: 102 });

    // Changes made while no sync runs are picked up from the slot, without a new snapshot.
    await sql(source.url, "update policy_log set state = 'fixed' where id = 1");
    await sql(source.url, 'delete from policy_log where id = 2');
    const again = new AbortController();
    const second = await engine.start(rule, { signal: again.signal });
    await until(converged);
    again.abort();
    expect(await second.done).toMatchObject({ status: 'stopped', rows_inserted: 0, rows_updated: 1, rows_deleted: 1, state_keys: 101 });

    // Deleting the rule releases its replication slot, and its state.
    const slots = () => sql(source.url, "select slot_name from pg_replication_slots where slot_name = 'sluice_sync_policy_changes_cdc'");
    expect(await slots()).toHaveLength(1);
    await engine.store.putRule(rule);
    expect(await engine.deleteRule(rule.rule_id)).toBe(true);
    expect(await slots()).toEqual([]);
    expect((await engine.status(rule.rule_id)).state.keys).toBe(0);
  });
});
