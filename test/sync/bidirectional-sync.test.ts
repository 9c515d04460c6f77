import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConflictResolver } from '../../src/sync/conflict-resolvers.js';
import type { SyncEngine } from '../../src/sync/sync-engine.js';
import { parseSyncRule, type SyncRule } from '../../src/sync/rule-schema.js';
import type { SyncRun } from '../../src/sync/sync-run.js';
import { countWrites, createDatabase, datasources, dropRedisPrefix, engineFor, sql, uniquePrefix } from './helpers.js';

type Db = Awaited<ReturnType<typeof createDatabase>>;
const STRATEGIES = ['source_wins', 'target_wins', 'latest_timestamp', 'custom', 'manual'] as const;

registerConflictResolver('test_merge', ({ source, target }) => ({
  name: source!.name,
  qty: String(Math.max(Number(source!.qty), Number(target!.qty))),
  updated_at: source!.updated_at! > target!.updated_at! ? source!.updated_at : target!.updated_at,
}));

describe('bidirectional sync between two PostgreSQL databases', () => {
  let a: Db;
  let b: Db;
  let engine: SyncEngine;
  const prefix = uniquePrefix('bidi');

  beforeAll(async () => {
    a = await createDatabase('sluice_sync_bidi_a');
    b = await createDatabase('sluice_sync_bidi_b');
    engine = engineFor(
      prefix,
      datasources({ side_a: { type: 'postgresql', config: { url: a.url } }, side_b: { type: 'postgresql', config: { url: b.url } } }),
    );
  });

  afterAll(async () => {
    await engine?.close();
    await dropRedisPrefix(prefix);
    await a?.drop();
    await b?.drop();
  });

  /** Rows written to a table since the log was last cleared, as `OP id`. */
  async function writes(db: Db, table: string): Promise<string[]> {
    const rows = await sql<{ op: string; id: string }>(db.url, 'select op, id from write_log where tbl = $1 order by id::int, op', [table]);
    return rows.map((r) => `${r.op} ${r.id}`);
  }

  async function contents(db: Db, table: string): Promise<unknown[]> {
    return sql(db.url, `select * from ${table} order by id`);
  }

  async function runUntilQuiet(rule: SyncRule): Promise<SyncRun> {
    for (let i = 0; i < 6; i++) {
      const run = await engine.execute(rule);
      expect(run.error).toBeUndefined();
      if (run.writes_to_source === 0 && run.writes_to_target === 0 && run.conflicts === 0) return run;
      if (rule.conflict_resolution === 'manual') {
        const parked = (await engine.conflicts(rule.rule_id)).map((c) => c.key);
        if (parked.length > 0) await engine.resolveConflicts(rule, parked, 'source');
      }
    }
    throw new Error('sync did not settle');
  }

  it('matches columns through field_mapping (source name → target name) both ways', async () => {
    await sql(a.url, 'create table people (person_id int primary key, full_name text, only_here text)');
    await sql(b.url, 'create table contacts (id int primary key, name text, only_there text)');
    await sql(a.url, "insert into people values (1, 'Ada', 'x'), (2, 'Grace', 'y')");
    await sql(b.url, "insert into contacts values (3, 'Edsger', 'z')");
    const rule = parseSyncRule({
      rule_id: 'people',
      name: 'People',
      source: 'side_a',
      target: 'side_b',
      bidirectional: true,
      field_mapping: { person_id: 'id', full_name: 'name' },
      source_config: { table: 'people' },
      target_config: { table: 'contacts' },
    });
    expect(await engine.execute(rule)).toMatchObject({ status: 'completed', writes_to_target: 2, writes_to_source: 1 });
    await sql(b.url, "update contacts set name = 'Ada L.' where id = 1");
    expect(await engine.execute(rule)).toMatchObject({ writes_to_target: 0, writes_to_source: 1 });
    expect(await sql(a.url, 'select person_id, full_name, only_here from people order by 1')).toEqual([
      { person_id: 1, full_name: 'Ada L.', only_here: 'x' },
      { person_id: 2, full_name: 'Grace', only_here: 'y' },
      { person_id: 3, full_name: 'Edsger', only_here: null },
    ]);
    expect(await sql(b.url, 'select id, name from contacts order by 1')).toEqual([
      { id: 1, name: 'Ada L.' },
      { id: 2, name: 'Grace' },
      { id: 3, name: 'Edsger' },
    ]);
  });

  describe.each(STRATEGIES)('conflict strategy %s', (strategy) => {
    const table = `items_${strategy}`;
    const rule = parseSyncRule({
      rule_id: `bidi_${strategy}`,
      name: `Two-way ${strategy}`,
      source: 'side_a',
      target: 'side_b',
      mode: 'full',
      bidirectional: true,
      filters: { timestamp_column: 'updated_at' },
      source_config: { table },
      target_config: { table },
      conflict_resolution: strategy === 'custom' ? { strategy: 'custom', function: 'test_merge' } : strategy,
    });

    beforeAll(async () => {
      for (const db of [a, b]) {
        await sql(db.url, `create table ${table} (id int primary key, name text, qty int, updated_at timestamptz)`);
        await countWrites(db.url, table);
      }
      await sql(a.url, `insert into ${table} select g, 'item ' || g, g, timestamptz '2026-01-01' from generate_series(1, 300) g`);
    });

    it('changes flow both ways, each written exactly once, conflicts settled, nothing echoed back', async () => {
      const first = await engine.execute(rule);
      expect(first).toMatchObject({ status: 'completed', writes_to_target: 300, writes_to_source: 0, conflicts: 0 });
      expect(await contents(b, table)).toEqual(await contents(a, table));
      const echo = await engine.execute(rule);
      expect(echo).toMatchObject({ writes_to_target: 0, writes_to_source: 0, conflicts: 0, rows_unchanged: 300 });

      await sql(a.url, `update ${table} set name = name || ' (a)' where id between 1 and 10`);
      await sql(b.url, `update ${table} set qty = qty + 1000 where id between 11 and 20`);
      // Conflicts: 21 and 22 newer on a, 23 to 25 newer on b.
      await sql(
        a.url,
        `update ${table} set name = 'A' || id, updated_at = case when id <= 22 then timestamptz '2026-02-02' else timestamptz '2026-02-01' end where id between 21 and 25`,
      );
      await sql(
        b.url,
        `update ${table} set name = 'B' || id, qty = qty + 100, updated_at = case when id <= 22 then timestamptz '2026-02-01' else timestamptz '2026-02-02' end where id between 21 and 25`,
      );
      // The same change on both sides is no conflict and needs no write.
      for (const db of [a, b]) await sql(db.url, `update ${table} set name = 'same' where id = 26`);
      await sql(a.url, `delete from ${table} where id = 30`);
      await sql(b.url, `delete from ${table} where id = 31`);
      await sql(a.url, `insert into ${table} values (1001, 'from a', 1, timestamptz '2026-01-05')`);
      await sql(b.url, `insert into ${table} values (1002, 'from b', 2, timestamptz '2026-01-05')`);
      for (const db of [a, b]) await sql(db.url, 'truncate write_log');

      const run = await engine.execute(rule);
      expect(run).toMatchObject({ status: 'completed', conflicts: 5 });
      const conflictKeys = [21, 22, 23, 24, 25];
      const toB = [...range(1, 10).map((id) => `UPDATE ${id}`), 'DELETE 30', 'INSERT 1001'];
      const toA = [...range(11, 20).map((id) => `UPDATE ${id}`), 'DELETE 31', 'INSERT 1002'];
      const winners = {
        source_wins: [conflictKeys, []],
        target_wins: [[], conflictKeys],
        latest_timestamp: [
          [21, 22],
          [23, 24, 25],
        ],
        custom: [conflictKeys, conflictKeys],
        manual: [[], []],
      }[strategy];
      const sorted = (list: string[]) => list.sort((x, y) => Number(x.split(' ')[1]) - Number(y.split(' ')[1]));
      expect(await writes(b, table)).toEqual(sorted([...toB, ...winners[0].map((id) => `UPDATE ${id}`)]));
      expect(await writes(a, table)).toEqual(sorted([...toA, ...winners[1].map((id) => `UPDATE ${id}`)]));
      expect(run.writes_to_target).toBe(toB.length + winners[0].length);
      expect(run.writes_to_source).toBe(toA.length + winners[1].length);

      const conflicted = `select id, name, qty from ${table} where id between 21 and 25 order by id`;
      if (strategy === 'manual') {
        const parked = await engine.conflicts(rule.rule_id);
        expect(parked.map((c) => c.key)).toEqual(conflictKeys.map((id) => `["${id}"]`));
        expect(parked[0]).toMatchObject({ source: { name: 'A21' }, target: { name: 'B21', qty: '121' } });
        const nothing = await engine.execute(rule);
        expect(nothing).toMatchObject({ writes_to_source: 0, writes_to_target: 0 });
        expect(await engine.resolveConflicts(rule, ['["21"]', '["22"]'], 'source')).toEqual({
          resolved: ['["21"]', '["22"]'],
          written_to: 'target',
        });
        expect(await engine.resolveConflicts(rule, ['["23"]', '["24"]', '["25"]'], 'target')).toEqual({
          resolved: ['["23"]', '["24"]', '["25"]'],
          written_to: 'source',
        });
        expect(await engine.conflicts(rule.rule_id)).toEqual([]);
      }
      const expectedConflicted = conflictKeys.map((id) => {
        const fromA = { id, name: `A${id}`, qty: id };
        const fromB = { id, name: `B${id}`, qty: id + 100 };
        if (strategy === 'source_wins') return fromA;
        if (strategy === 'target_wins') return fromB;
        if (strategy === 'custom') return { id, name: `A${id}`, qty: id + 100 };
        return id <= 22 ? fromA : fromB;
      });
      expect(await sql(a.url, conflicted)).toEqual(expectedConflicted);
      expect(await contents(b, table)).toEqual(await contents(a, table));

      for (const db of [a, b]) await sql(db.url, 'truncate write_log');
      const quiet = await engine.execute(rule);
      expect(quiet).toMatchObject({ writes_to_source: 0, writes_to_target: 0, conflicts: 0 });
      expect([...(await writes(a, table)), ...(await writes(b, table))]).toEqual([]);
    });

    it('converges under concurrent conflicting updates on both sides', async () => {
      const stop = { done: false };
      const writer = async (db: Db, side: string) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        let n = 0;
        try {
          while (!stop.done || n < 50) {
            const id = 100 + Math.floor(Math.random() * 40);
            await client.query(`update ${table} set name = $2, qty = qty + 1, updated_at = clock_timestamp() where id = $1`, [
              id,
              `${side}-${n++}`,
            ]);
            if (n % 7 === 0)
              await client.query(
                `insert into ${table} values ($1, $2, 0, clock_timestamp()) on conflict (id) do update set name = excluded.name`,
                [2000 + (n % 20), `${side}-new-${n}`],
              );
            await new Promise((r) => setTimeout(r, 1));
          }
        } finally {
          await client.end();
        }
      };
      const writers = [writer(a, 'a'), writer(b, 'b')];
      for (let i = 0; i < 3; i++) {
        const run = await engine.execute(rule);
        expect(run.error).toBeUndefined();
        const parked = strategy === 'manual' ? (await engine.conflicts(rule.rule_id)).map((c) => c.key) : [];
        if (parked.length > 0) await engine.resolveConflicts(rule, parked, 'target');
      }
      stop.done = true;
      await Promise.all(writers);
      await runUntilQuiet(rule);
      expect(await contents(b, table)).toEqual(await contents(a, table));
      // Quiet means quiet: one more run writes nothing on either side.
      for (const db of [a, b]) await sql(db.url, 'truncate write_log');
      const last = await engine.execute(rule);
      expect(last).toMatchObject({ writes_to_source: 0, writes_to_target: 0, conflicts: 0 });
      expect([...(await writes(a, table)), ...(await writes(b, table))]).toEqual([]);
    });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
