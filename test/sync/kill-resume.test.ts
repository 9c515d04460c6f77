import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { REDIS_URL, createDatabase, datasources, dropRedisPrefix, engineFor, sql, uniquePrefix } from './helpers.js';

type Db = Awaited<ReturnType<typeof createDatabase>>;
const worker = fileURLToPath(new URL('./kill-worker.ts', import.meta.url));

/**
 * Starts a sync in a child process and SIGKILLs it once `partial()` says writes have begun;
 * without `partial`, waits for the child to kill itself (`killAt`).
 */
async function killMidRun(env: object, partial: () => Promise<boolean> = async () => false): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', worker], {
    env: { ...process.env, SYNC_WORKER: JSON.stringify(env) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !(await partial())) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  expect(await exited, `the sync ended before it could be killed: ${output}`).toBe('SIGKILL');
}

describe('kill -9 during a sync, then run again', () => {
  let a: Db;
  let b: Db;
  const prefix = uniquePrefix('kill');

  beforeAll(async () => {
    a = await createDatabase('sluice_sync_kill_a');
    b = await createDatabase('sluice_sync_kill_b');
  });

  afterAll(async () => {
    await dropRedisPrefix(prefix);
    await a?.drop();
    await b?.drop();
  });

  const count = async (db: Db, table: string) => (await sql<{ n: number }>(db.url, `select count(*)::int as n from ${table}`))[0].n;
  /** A digest of every row in key order: equal digests, equal tables. */
  const contents = async (db: Db, table: string) =>
    (
      await sql<{ rows: number; digest: string }>(
        db.url,
        `select count(*)::int as rows, md5(string_agg(t::text, ',' order by id)) as digest from ${table} t`,
      )
    )[0];

  it('one-way full sync: the target converges and a further run writes nothing', async () => {
    for (const db of [a, b])
      await sql(db.url, 'create table orders (id int primary key, customer text, total numeric(12,2), placed_at timestamptz)');
    await sql(
      a.url,
      "insert into orders select g, 'customer ' || (g % 977), g * 0.37, timestamptz '2026-01-01' + g * interval '1 second' from generate_series(1, 150000) g",
    );
    const rule = {
      rule_id: 'orders_full',
      name: 'Orders',
      source: 'a',
      target: 'b',
      mode: 'full',
      source_config: { table: 'orders', batch_size: 5000 },
      target_config: { table: 'orders' },
    };
    const env = { prefix, sources: { a: a.url, b: b.url }, rule };
    await killMidRun(env, async () => (await count(b, 'orders')) > 0);
    expect(await count(b, 'orders')).toBeLessThan(150000);

    await sql(a.url, 'update orders set total = total + 1 where id % 1000 = 0');
    const engine = engineFor(
      prefix,
      datasources({ a: { type: 'postgresql', config: { url: a.url } }, b: { type: 'postgresql', config: { url: b.url } } }),
    );
    try {
      const rerun = await engine.execute(parseSyncRule(rule));
      expect(rerun.status).toBe('completed');
      expect(await contents(b, 'orders')).toEqual(await contents(a, 'orders'));
      const after = await engine.execute(parseSyncRule(rule));
      expect(after).toMatchObject({ rows_inserted: 0, rows_updated: 0, rows_deleted: 0, rows_unchanged: 150000 });
    } finally {
      await engine.close();
    }
  });

  it('bidirectional sync: both sides converge and a further run writes nothing', async () => {
    for (const db of [a, b]) await sql(db.url, 'create table accounts (id int primary key, owner text, balance int)');
    await sql(a.url, "insert into accounts select g, 'a' || g, g from generate_series(1, 80000) g");
    await sql(b.url, "insert into accounts select g, 'b' || g, g from generate_series(70001, 140000) g");
    const rule = {
      rule_id: 'accounts_two_way',
      name: 'Accounts',
      source: 'a',
      target: 'b',
      mode: 'full',
      bidirectional: true,
      conflict_resolution: 'target_wins',
      source_config: { table: 'accounts' },
      target_config: { table: 'accounts' },
    };
    const env = { prefix, sources: { a: a.url, b: b.url }, rule };
    await killMidRun(env, async () => (await count(b, 'accounts')) > 75000);
    const [onA, onB] = [await count(a, 'accounts'), await count(b, 'accounts')];
    expect(onA === 140000 && onB === 140000).toBe(false);

    const engine = engineFor(
      prefix,
      datasources({ a: { type: 'postgresql', config: { url: a.url } }, b: { type: 'postgresql', config: { url: b.url } } }),
    );
    try {
      const rerun = await engine.execute(parseSyncRule(rule));
      expect(rerun.status).toBe('completed');
      const both = await contents(a, 'accounts');
      expect(both.rows).toBe(140000);
      expect(await contents(b, 'accounts')).toEqual(both);
      // target_wins on the overlap: keys 70001..80000 hold b's rows on both sides.
      expect(await sql(a.url, 'select owner from accounts where id = 75000')).toEqual([{ owner: 'b75000' }]);
      const after = await engine.execute(parseSyncRule(rule));
      expect(after).toMatchObject({ writes_to_source: 0, writes_to_target: 0, conflicts: 0, rows_unchanged: 140000 });
    } finally {
      await engine.close();
    }
  });

  it('bidirectional sync killed between a write and its state update: the next changes are no conflicts', async () => {
    for (const db of [a, b]) await sql(db.url, 'create table balances (id int primary key, owner text, balance int)');
    await sql(a.url, "insert into balances select g, 'owner ' || g, g from generate_series(1, 100) g");
    const rule = {
      rule_id: 'balances_two_way',
      name: 'Balances',
      source: 'a',
      target: 'b',
      mode: 'full',
      bidirectional: true,
      conflict_resolution: 'target_wins',
      source_config: { table: 'balances' },
      target_config: { table: 'balances' },
    };
    const engine = engineFor(
      prefix,
      datasources({ a: { type: 'postgresql', config: { url: a.url } }, b: { type: 'postgresql', config: { url: b.url } } }),
    );
    const balances = async (db: Db) => sql(db.url, 'select id, balance from balances where id in (1, 2) order by id');
    try {
      expect(await engine.execute(parseSyncRule(rule))).toMatchObject({ status: 'completed', writes_to_target: 100 });
      // Changed at the source: the next run writes both rows to the target and dies right after that commit.
      await sql(a.url, 'update balances set balance = balance + 1000 where id in (1, 2)');
      await killMidRun({ prefix, sources: { a: a.url, b: b.url }, rule, killAt: 'after_commit' });
      expect(await balances(b)).toEqual([
        { id: 1, balance: 1001 },
        { id: 2, balance: 1002 },
      ]);

      // Then key 1 changes again at the source and key 2 at the target: one-sided changes, no conflict.
      await sql(a.url, 'update balances set balance = 5001 where id = 1');
      await sql(b.url, 'update balances set balance = 5002 where id = 2');
      const rerun = await engine.execute(parseSyncRule(rule));
      expect(rerun).toMatchObject({ status: 'completed', conflicts: 0, writes_to_target: 1, writes_to_source: 1 });
      expect(await balances(a)).toEqual([
        { id: 1, balance: 5001 },
        { id: 2, balance: 5002 },
      ]);
      expect(await contents(b, 'balances')).toEqual(await contents(a, 'balances'));
      const after = await engine.execute(parseSyncRule(rule));
      expect(after).toMatchObject({ writes_to_source: 0, writes_to_target: 0, conflicts: 0, rows_unchanged: 100 });
      expect(await pendingIntents('balances_two_way')).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('bidirectional sync killed before its write committed: the write is not taken as done', async () => {
    for (const db of [a, b]) await sql(db.url, 'create table stock (id int primary key, item text, qty int)');
    await sql(a.url, "insert into stock select g, 'item ' || g, g from generate_series(1, 100) g");
    const rule = {
      rule_id: 'stock_two_way',
      name: 'Stock',
      source: 'a',
      target: 'b',
      mode: 'full',
      bidirectional: true,
      conflict_resolution: 'target_wins',
      source_config: { table: 'stock' },
      target_config: { table: 'stock' },
    };
    const engine = engineFor(
      prefix,
      datasources({ a: { type: 'postgresql', config: { url: a.url } }, b: { type: 'postgresql', config: { url: b.url } } }),
    );
    const quantities = async (db: Db) => sql(db.url, 'select id, qty from stock where id in (1, 2) order by id');
    try {
      expect(await engine.execute(parseSyncRule(rule))).toMatchObject({ status: 'completed', writes_to_target: 100 });
      await sql(a.url, 'update stock set qty = qty + 1000 where id in (1, 2)');
      // Dies with the write intent recorded and the target's transaction open: it never commits.
      await killMidRun({ prefix, sources: { a: a.url, b: b.url }, rule, killAt: 'before_commit' });
      expect(await pendingIntents('stock_two_way')).toBe(1);
      expect(await quantities(b)).toEqual([
        { id: 1, qty: 1 },
        { id: 2, qty: 2 },
      ]);

      // The target still holds the synced rows: the source's changes are sent, not recorded as done.
      const rerun = await engine.execute(parseSyncRule(rule));
      expect(rerun).toMatchObject({ status: 'completed', conflicts: 0, writes_to_target: 2, writes_to_source: 0 });
      expect(await quantities(b)).toEqual([
        { id: 1, qty: 1001 },
        { id: 2, qty: 1002 },
      ]);
      expect(await contents(b, 'stock')).toEqual(await contents(a, 'stock'));
      expect(await pendingIntents('stock_two_way')).toBe(0);
    } finally {
      await engine.close();
    }
  });

  /** Write intents a rule's state holds (recorded before a write commits, dropped with the state update). */
  async function pendingIntents(ruleId: string): Promise<number> {
    const redis = new Redis(REDIS_URL);
    try {
      return await redis.hlen(`${prefix}${ruleId}:intents`);
    } finally {
      redis.disconnect();
    }
  }
});
