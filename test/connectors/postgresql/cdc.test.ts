import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../../src/core/batch.js';
import { CdcSource } from '../../../src/connectors/postgresql/cdc/cdc-source.js';
import { PostgresSink } from '../../../src/connectors/postgresql/sink.js';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import type { PostgresConfig } from '../../../src/connectors/postgresql/config.js';
import { config, createDatabase, readContext, sql } from './pg-helpers.js';
import { Pipeline } from './cdc-driver.js';
import { metricsRegistry } from '../../../src/core/metrics.js';
import { WORKLOAD_DDL, dumpTables, runWorkload } from './workload.js';

type Db = Awaited<ReturnType<typeof createDatabase>>;

async function currentLsn(url: string): Promise<bigint> {
  const [{ lsn }] = await sql<{ lsn: string }>(url, 'select pg_current_wal_lsn()::text as lsn');
  return parseLsn(lsn);
}

async function slotLsn(url: string, slot: string): Promise<string | undefined> {
  const rows = await sql<{ lsn: string }>(url, 'select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1', [
    slot,
  ]);
  return rows[0]?.lsn;
}

/** Reads a CDC source in the background, collecting its batches (no commit unless asked). */
function collect(source: CdcSource): { batches: Batch[]; until: (n: number) => Promise<Batch[]>; stop: () => Promise<void> } {
  const controller = new AbortController();
  const batches: Batch[] = [];
  let failed: unknown;
  // Snapshot markers are committed as the runtime would (the source waits for that to create the slot).
  const next = (b: Batch) => {
    batches.push(b);
    if ((b.meta.position as { snapshot?: string } | undefined)?.snapshot) void source.commit(b.meta.partition, b.meta.position!);
  };
  const subscription = source.read('p', undefined, readContext(controller.signal)).subscribe({ next, error: (e: unknown) => (failed = e) });
  return {
    batches,
    until: async (n) => {
      for (let i = 0; i < 600 && batches.length < n; i++) {
        if (failed) throw failed;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(batches.length).toBeGreaterThanOrEqual(n);
      return batches;
    },
    stop: async () => {
      controller.abort();
      subscription.unsubscribe();
      await source.close();
    },
  };
}

describe('postgresql cdc source', () => {
  let src: Db;
  let dst: Db;
  const pipelines: Pipeline[] = [];

  function pipeline(sourceConfig: Partial<PostgresConfig>, table: string, from?: never): Pipeline {
    const sink = new PostgresSink(config({ url: dst.url, table, add_columns: true }));
    const p = new Pipeline(new CdcSource(config({ url: src.url, mode: 'cdc', heartbeat_ms: 200, ...sourceConfig })), sink, from);
    pipelines.push(p);
    return p;
  }

  /** One sink per table, picked by the batch's stream. */
  function fanOut(sourceConfig: Partial<PostgresConfig>, tables: string[], from?: never): Pipeline {
    const sinks = new Map(tables.map((t) => [`public.${t}`, new PostgresSink(config({ url: dst.url, table: t }))]));
    const router = {
      write: async (batch: Parameters<PostgresSink['write']>[0]) => sinks.get(batch.meta.stream)!.write(batch),
      close: async () => {
        for (const s of sinks.values()) await s.close();
      },
    };
    const p = new Pipeline(new CdcSource(config({ url: src.url, mode: 'cdc', heartbeat_ms: 200, ...sourceConfig })), router, from);
    pipelines.push(p);
    return p;
  }

  beforeAll(async () => {
    src = await createDatabase('sluice_cdc_src');
    dst = await createDatabase('sluice_cdc_dst');
  });
  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.stop();
  });
  afterAll(async () => {
    await src?.drop();
    await dst?.drop();
  });

  it('replicates a random workload of 10,000+ operations over 3 tables, target equal to source row for row', async () => {
    await sql(src.url, WORKLOAD_DDL);
    await sql(dst.url, WORKLOAD_DDL);
    await runWorkload(src.url, 1500, 1, 0);
    const p = fanOut({ slot: 'workload', publication: 'workload', tables: ['a', 'b', 'c'] }, ['a', 'b', 'c']);
    // Changes made while the snapshot is taken must be streamed afterwards: no gap, no loss.
    const done = await runWorkload(src.url, 9000, 2, 1_000_000);
    expect(done + 1500).toBeGreaterThanOrEqual(10_000);
    await p.waitFor(await currentLsn(src.url));
    const expected = await dumpTables(src.url);
    expect(expected.b.some((row) => row.length > 20_000)).toBe(true);
    expect(await dumpTables(dst.url)).toEqual(expected);
    // Confirmed to the server: exactly what was committed, never more.
    expect(parseLsn((await slotLsn(src.url, 'workload'))!)).toBeLessThanOrEqual(p.lsn);
    const metrics = await metricsRegistry.getMetricsAsJSON();
    const events = metrics.find((m) => m.name === 'sluice_pg_cdc_events_total')!.values.find((v) => v.labels.slot === 'workload')!;
    expect(events.value).toBe(p.rows);
    expect(metrics.find((m) => m.name === 'sluice_pg_cdc_slot_lag_bytes')!.values.some((v) => v.labels.slot === 'workload')).toBe(true);
  }, 180_000);

  it('emits changelog batches with __op, __ts, the key, and never a value for unchanged TOAST', async () => {
    await sql(src.url, 'create table toasty (id int primary key, n int, big text); alter table toasty replica identity default');
    // Random hex does not compress below the TOAST threshold: the value is stored out of line.
    await sql(src.url, "insert into toasty select 1, 1, string_agg(md5(random()::text), '') from generate_series(1, 2000)");
    const reader = collect(new CdcSource(config({ url: src.url, mode: 'cdc', slot: 'toasty', publication: 'toasty', tables: ['toasty'] })));
    await reader.until(3);
    await sql(src.url, 'begin; update toasty set n = 2 where id = 1; delete from toasty where id = 1; commit');
    const [start, snapshot, end, change] = await reader.until(4);
    expect(start.meta.position).toMatchObject({ snapshot: 'running' });
    expect(snapshot.meta.position).toMatchObject({ snapshot: 'running' });
    await reader.stop();
    expect(snapshot.data.getChild('__op')!.get(0)).toBe('r');
    expect(snapshot.data.getChild('big')!.get(0)).toHaveLength(64_000);
    expect(end.data.numRows).toBe(0);
    expect(end.meta.position).toEqual({ lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) });
    expect(JSON.parse(change.data.schema.metadata.get('sluice.key')!)).toEqual(['id']);
    expect([...change.data.getChild('__op')!]).toEqual(['u', 'd']);
    expect(change.data.getChild('n')!.get(0)).toBe(2);
    expect(change.data.getChild('big')!.get(0)).toBeNull();
    expect([...change.data.getChild('__unchanged')!.get(0)!]).toEqual(['big']);
    expect(Math.abs(Number(change.data.getChild('__ts')!.data[0].values[0] / 1000n) - Date.now())).toBeLessThan(60_000);
    expect(parseLsn((change.meta.position as { lsn: string }).lsn)).toBeGreaterThan(parseLsn((end.meta.position as { lsn: string }).lsn));
  });

  it('confirms the LSN to PostgreSQL only in commit()', async () => {
    await sql(src.url, 'create table conf (id int primary key)');
    const source = new CdcSource(
      config({ url: src.url, mode: 'cdc', slot: 'conf', publication: 'conf', tables: ['conf'], heartbeat_ms: 100 }),
    );
    const reader = collect(source);
    await reader.until(2);
    const created = await slotLsn(src.url, 'conf');
    await sql(src.url, 'insert into conf values (1)');
    const change = (await reader.until(3))[2];
    expect(change.data.numRows).toBe(1);
    // Past the status interval would not matter: nothing was committed, so nothing is confirmed.
    await new Promise((r) => setTimeout(r, 500));
    expect(await slotLsn(src.url, 'conf')).toBe(created);
    await source.commit('p', change.meta.position!);
    const want = (change.meta.position as { lsn: string }).lsn;
    for (let i = 0; i < 100 && (await slotLsn(src.url, 'conf')) !== want; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await slotLsn(src.url, 'conf')).toBe(want);
    await reader.stop();
  });

  it('advances the slot with heartbeats while the captured tables are idle', async () => {
    await sql(src.url, 'create table idle (id int primary key); create table busy (id int)');
    await sql(dst.url, 'create table idle (id int primary key)');
    const p = pipeline({ slot: 'idle', publication: 'idle', tables: ['idle'] }, 'idle');
    await p.waitFor(1n);
    const before = parseLsn((await slotLsn(src.url, 'idle'))!);
    // WAL that the publication does not capture: only a heartbeat can move the slot past it.
    await sql(src.url, 'insert into busy select generate_series(1, 10000)');
    const after = await currentLsn(src.url);
    await p.waitFor(after);
    for (let i = 0; i < 100 && parseLsn((await slotLsn(src.url, 'idle'))!) < after; i++) await new Promise((r) => setTimeout(r, 50));
    expect(parseLsn((await slotLsn(src.url, 'idle'))!)).toBeGreaterThanOrEqual(after);
    expect(after).toBeGreaterThan(before);
    expect(p.rows).toBe(0);
  });

  it('gives batches the new schema after ALTER TABLE mid-stream', async () => {
    await sql(src.url, "create table evolve (id int primary key, a text); insert into evolve values (1, 'x')");
    await sql(dst.url, 'create table evolve (id int primary key, a text)');
    const p = pipeline({ slot: 'evolve', publication: 'evolve', tables: ['evolve'] }, 'evolve');
    await p.waitFor(1n);
    await sql(
      src.url,
      "insert into evolve values (2, 'y'); alter table evolve add column b int; insert into evolve values (3, 'z', 33); update evolve set b = 11 where id = 1",
    );
    await sql(src.url, 'alter table evolve drop column a; insert into evolve values (4, 44)');
    await p.waitFor(await currentLsn(src.url));
    expect(await sql(dst.url, 'select id, a, b from evolve order by id')).toEqual([
      { id: 1, a: 'x', b: 11 },
      { id: 2, a: 'y', b: null },
      { id: 3, a: 'z', b: 33 },
      { id: 4, a: null, b: 44 },
    ]);
  });

  it('fails with a clear, non-retriable error when the slot is dropped under a running pipeline', async () => {
    await sql(src.url, 'create table dropped (id int primary key)');
    await sql(dst.url, 'create table dropped (id int primary key)');
    const p = pipeline({ slot: 'dropped', publication: 'dropped', tables: ['dropped'] }, 'dropped');
    await p.waitFor(1n);
    await sql(src.url, 'insert into dropped values (1)');
    await p.waitFor(await currentLsn(src.url));
    await sql(src.url, "select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = 'dropped'");
    for (let i = 0; i < 50; i++) {
      const rows = await sql(
        src.url,
        "select pg_drop_replication_slot('dropped') from pg_replication_slots where slot_name = 'dropped' and not active",
      );
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The walsender was terminated first (an active slot cannot be dropped): a retriable failure...
    await expect(p.done).rejects.toMatchObject({ code: 'SLUICE_SOURCE_FAILED' });
    // ...and the retry finds no slot: a clear error, not retried, never a silent "from now".
    const again = pipeline({ slot: 'dropped', publication: 'dropped', tables: ['dropped'] }, 'dropped', p.position as never);
    await expect(again.done).rejects.toMatchObject({ retriable: false, message: expect.stringMatching(/does not exist/) });
    // Configured to, it creates the slot again and snapshots again: the target catches up.
    await sql(src.url, 'insert into dropped values (2)');
    const resnapshot = pipeline(
      { slot: 'dropped', publication: 'dropped', tables: ['dropped'], on_slot_lost: 'resnapshot' },
      'dropped',
      p.position as never,
    );
    await resnapshot.waitFor(await currentLsn(src.url));
    expect(await sql(dst.url, 'select id from dropped order by id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await slotLsn(src.url, 'dropped')).toBeDefined();
  });

  it('resumes from the slot confirmed_flush_lsn when the checkpoint store is empty', async () => {
    await sql(src.url, 'create table resume (id int primary key, v text)');
    await sql(dst.url, 'create table resume (id int primary key, v text)');
    const first = pipeline({ slot: 'resume', publication: 'resume', tables: ['resume'] }, 'resume');
    await first.waitFor(1n);
    await sql(src.url, "insert into resume values (1, 'a')");
    await first.waitFor(await currentLsn(src.url));
    await first.stop();
    // Changes while nothing runs, then a start with no checkpoint: they arrive, none skipped.
    await sql(src.url, "insert into resume values (2, 'b'); update resume set v = 'a2' where id = 1");
    await sql(dst.url, 'truncate resume');
    const second = pipeline({ slot: 'resume', publication: 'resume', tables: ['resume'] }, 'resume');
    await second.waitFor(await currentLsn(src.url));
    // Only what came after the confirmed position is delivered (no re-snapshot).
    expect(await sql(dst.url, 'select * from resume order by id')).toEqual([
      { id: 1, v: 'a2' },
      { id: 2, v: 'b' },
    ]);
    expect(second.rows).toBe(2);
  });

  it('snapshots again when the checkpoint is inside an interrupted snapshot', async () => {
    await sql(src.url, 'create table resnap (id int primary key); insert into resnap select generate_series(1, 50)');
    await sql(dst.url, 'create table resnap (id int primary key)');
    const first = pipeline({ slot: 'resnap', publication: 'resnap', tables: ['resnap'] }, 'resnap');
    await first.waitFor(await currentLsn(src.url));
    await first.stop();
    await sql(src.url, 'insert into resnap values (51)');
    const again = pipeline({ slot: 'resnap', publication: 'resnap', tables: ['resnap'] }, 'resnap', {
      lsn: '0/0',
      snapshot: 'running',
    } as never);
    await again.waitFor(await currentLsn(src.url));
    expect(again.rows).toBe(51);
    expect(await sql(dst.url, 'select count(*)::int as n from resnap')).toEqual([{ n: 51 }]);
  });
});
