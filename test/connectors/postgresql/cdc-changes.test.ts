import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Batch } from '../../../src/core/batch.js';
import { CdcSource } from '../../../src/connectors/postgresql/cdc/cdc-source.js';
import { PostgresSink } from '../../../src/connectors/postgresql/sink.js';
import { postgresqlConnector } from '../../../src/connectors/postgresql/index.js';
import { parseConnectorConfig } from '../../../src/core/definition-config.js';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import type { PostgresConfig } from '../../../src/connectors/postgresql/config.js';
import { changeRecords } from '../../../src/connectors/kafka/encode.js';
import { config, createDatabase, readContext, sql } from './pg-helpers.js';
import { Pipeline } from './cdc-driver.js';
import { prng } from './workload.js';

type Db = Awaited<ReturnType<typeof createDatabase>>;

async function currentLsn(url: string): Promise<bigint> {
  const [{ lsn }] = await sql<{ lsn: string }>(url, 'select pg_current_wal_lsn()::text as lsn');
  return parseLsn(lsn);
}

/** Reads a CDC source, committing every position as the runtime does; collects the batches. */
function reader(source: CdcSource) {
  const controller = new AbortController();
  const batches: Batch[] = [];
  let failed: unknown;
  const subscription = source.read('p', undefined, readContext(controller.signal)).subscribe({
    next: (b) => {
      batches.push(b);
      void source.commit(b.meta.partition, b.meta.position!);
    },
    error: (e: unknown) => (failed = e),
  });
  const lsnOf = (b: Batch) =>
    (b.meta.position as { lsn: string; snapshot?: string }).snapshot ? 0n : parseLsn((b.meta.position as { lsn: string }).lsn);
  return {
    batches,
    /** Waits until a batch carries a position at or past `lsn`. */
    until: async (lsn: bigint) => {
      for (let i = 0; i < 600 && !batches.some((b) => lsnOf(b) >= lsn); i++) {
        if (failed) throw failed;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(batches.some((b) => lsnOf(b) >= lsn)).toBe(true);
      return batches;
    },
    lsnOf,
    stop: async () => {
      controller.abort();
      subscription.unsubscribe();
      await source.close();
    },
  };
}

/** The (table, key, op) of every streamed change row, in emitted order. */
function changes(batches: Batch[]): string[] {
  const out: string[] = [];
  for (const b of batches) {
    const ops = b.data.getChild('__op');
    const ids = b.data.getChild('id');
    for (let r = 0; r < b.data.numRows; r++)
      if (ops!.get(r) !== 'r') out.push(`${b.meta.stream}:${String(ids?.get(r))}:${String(ops!.get(r))}`);
  }
  return out;
}

describe('postgresql cdc changes: commit order, before-images, truncate', () => {
  let src: Db;
  let dst: Db;
  const stops: Array<() => Promise<void>> = [];

  function cdc(values: Partial<PostgresConfig>): CdcSource {
    return new CdcSource(config({ url: src.url, mode: 'cdc', heartbeat_ms: 200, ...values }));
  }

  beforeAll(async () => {
    src = await createDatabase('sluice_cdc_changes_src');
    dst = await createDatabase('sluice_cdc_changes_dst');
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });
  afterAll(async () => {
    await src?.drop();
    await dst?.drop();
  });

  it('emits interleaved multi-table transactions in commit order, positions only at commit boundaries', async () => {
    await sql(
      src.url,
      'create table ox (id int primary key, v int); create table oy (id int primary key, v int); create table oz (id int primary key, v int)',
    );
    const r = reader(cdc({ slot: 'order', publication: 'order', tables: ['ox', 'oy', 'oz'], max_batch_delay_ms: 300 }));
    stops.push(r.stop);
    await r.until(1n);
    const clients = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = new pg.Client({ connectionString: src.url });
        await c.connect();
        return c;
      }),
    );
    stops.push(async () => {
      for (const c of clients) await c.end();
    });
    // Two transactions in one round trip, so they reach the source together, each across tables.
    await sql(
      src.url,
      'begin; insert into ox values (1000, 0); insert into oy values (1000, 0); insert into ox values (1003, 0); commit; begin; insert into oz values (1006, 0); insert into ox values (1009, 0); commit',
    );
    const expected = ['ox:1000:c', 'oy:1000:c', 'ox:1003:c', 'oz:1006:c', 'ox:1009:c'].map((c) => `public.${c}`);
    const random = prng(3);
    const tables = ['ox', 'oy', 'oz'];
    let nextId = 1;
    const live: Record<string, number[]> = { ox: [], oy: [], oz: [] };
    for (let round = 0; round < 15; round++) {
      // Three transactions at once, statements interleaved, committed in a random order: the
      // stream must follow the commit order, not the order of the statements.
      const txns: string[][] = [[], [], []];
      for (const c of clients) await c.query('begin');
      for (let s = 0; s < 12; s++) {
        const t = Math.floor(random() * 3);
        const table = tables[Math.floor(random() * 3)];
        const own = live[table].filter((id) => id % 3 === t);
        if (own.length > 0 && random() < 0.4) {
          const id = own[Math.floor(random() * own.length)];
          if (random() < 0.5) {
            await clients[t].query(`update ${table} set v = v + 1 where id = $1`, [id]);
            txns[t].push(`public.${table}:${id}:u`);
          } else {
            await clients[t].query(`delete from ${table} where id = $1`, [id]);
            live[table] = live[table].filter((x) => x !== id);
            txns[t].push(`public.${table}:${id}:d`);
          }
        } else {
          let id = nextId++;
          while (id % 3 !== t) id = nextId++;
          await clients[t].query(`insert into ${table} values ($1, 0)`, [id]);
          live[table].push(id);
          txns[t].push(`public.${table}:${id}:c`);
        }
      }
      const order = [0, 1, 2].sort(() => random() - 0.5);
      for (const t of order) {
        await clients[t].query('commit');
        expected.push(...txns[t]);
      }
    }
    const end = await currentLsn(src.url);
    await r.until(end);
    expect(changes(r.batches)).toEqual(expected);
    // Positions never go back, and a batch of a multi-table flush carries a new position only last.
    const lsns = r.batches.map(r.lsnOf);
    for (let i = 1; i < lsns.length; i++) expect(lsns[i]).toBeGreaterThanOrEqual(lsns[i - 1]);
    expect(new Set(r.batches.map((b) => b.meta.stream)).size).toBeGreaterThan(3);
  });

  it('never gives a batch inside a large multi-table transaction the commit LSN', async () => {
    await sql(src.url, 'create table bx (id int primary key); create table by_ (id int primary key)');
    const r = reader(cdc({ slot: 'big', publication: 'big', tables: ['bx', 'by_'], batch_size: 5 }));
    stops.push(r.stop);
    await r.until(1n);
    const before = await currentLsn(src.url);
    await r.until(before);
    const seen = r.batches.length;
    await sql(
      src.url,
      'begin; insert into bx select generate_series(1, 30); insert into by_ select generate_series(1, 30); insert into bx select generate_series(31, 60); commit',
    );
    const end = await currentLsn(src.url);
    await r.until(end);
    const txn = r.batches.slice(seen).filter((b) => b.data.numRows > 0);
    expect(txn.reduce((n, b) => n + b.data.numRows, 0)).toBe(90);
    // Emitted in parts (batch_size 5 x 4 buffered), in statement order.
    expect(txn.length).toBeGreaterThan(3);
    expect(changes(txn)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `public.bx:${i + 1}:c`),
      ...Array.from({ length: 30 }, (_, i) => `public.by_:${i + 1}:c`),
      ...Array.from({ length: 30 }, (_, i) => `public.bx:${i + 31}:c`),
    ]);
    // The parts keep the position from before the transaction; only the last one has its commit LSN.
    const commit = r.lsnOf(txn.at(-1)!);
    expect(commit).toBeGreaterThan(before);
    expect(commit).toBeLessThanOrEqual(end);
    expect(new Set(txn.slice(0, -1).map(r.lsnOf)).size).toBe(1);
    expect(r.lsnOf(txn[0])).toBeLessThan(commit);
  });

  it('with cdc_order table, groups a flush per table: order kept per table, positions at commits', async () => {
    await sql(src.url, 'create table gx (id int primary key); create table gy (id int primary key)');
    const r = reader(cdc({ slot: 'grouped', publication: 'grouped', tables: ['gx', 'gy'], cdc_order: 'table', max_batch_delay_ms: 2000 }));
    stops.push(r.stop);
    await r.until(1n);
    const seen = r.batches.length;
    await sql(
      src.url,
      'begin; insert into gx values (1); insert into gy values (1); insert into gx values (2); commit; begin; delete from gx where id = 1; insert into gy values (2); commit',
    );
    await r.until(await currentLsn(src.url));
    const flushed = r.batches.slice(seen).filter((b) => b.data.numRows > 0);
    expect(changes(flushed)).toEqual(['public.gx:1:c', 'public.gx:2:c', 'public.gx:1:d', 'public.gy:1:c', 'public.gy:2:c']);
    expect(flushed).toHaveLength(2);
    expect(r.lsnOf(flushed[0])).toBeLessThan(r.lsnOf(flushed[1]));
  });

  it('emits __before with REPLICA IDENTITY FULL, which the Debezium envelope uses as `before`', async () => {
    await sql(
      src.url,
      'create table imgs (id int primary key, v text, big text); alter table imgs replica identity full; create table noimg (id int primary key, v text)',
    );
    const r = reader(cdc({ slot: 'imgs', publication: 'imgs', tables: ['imgs', 'noimg'] }));
    stops.push(r.stop);
    await r.until(1n);
    await sql(src.url, `insert into imgs select 1, 'a', string_agg(md5(random()::text), '') from generate_series(1, 2000)`);
    const [{ big }] = await sql<{ big: string }>(src.url, 'select big from imgs where id = 1');
    await sql(
      src.url,
      "begin; update imgs set v = 'b' where id = 1; update imgs set id = 2 where id = 1; delete from imgs where id = 2; insert into noimg values (1, 'x'); update noimg set v = 'y'; commit",
    );
    await r.until(await currentLsn(src.url));
    const rows = r.batches
      .filter((b) => b.meta.stream === 'public.imgs')
      .flatMap((b) => {
        const before = b.data.getChild('__before')!;
        return Array.from({ length: b.data.numRows }, (_, i) => ({
          op: b.data.getChild('__op')!.get(i) as string,
          id: b.data.getChild('id')!.get(i) as number,
          v: b.data.getChild('v')!.get(i) as string | null,
          big: b.data.getChild('big')!.get(i) === big,
          unchanged: b.data.getChild('__unchanged')!.get(i),
          before: (before.get(i) as { toJSON(): Record<string, unknown> } | null)?.toJSON() ?? null,
        }));
      });
    const old = (id: number, v: string) => ({ id, v, big });
    expect(rows).toEqual([
      { op: 'c', id: 1, v: 'a', big: true, unchanged: null, before: null },
      // The TOASTed value the update left alone is filled in from the old row.
      { op: 'u', id: 1, v: 'b', big: true, unchanged: null, before: old(1, 'a') },
      { op: 'd', id: 1, v: 'b', big: true, unchanged: null, before: old(1, 'b') },
      { op: 'u', id: 2, v: 'b', big: true, unchanged: null, before: old(1, 'b') },
      { op: 'd', id: 2, v: 'b', big: true, unchanged: null, before: old(2, 'b') },
    ]);
    const plain = r.batches.find((b) => b.meta.stream === 'public.noimg')!;
    expect(plain.data.getChild('__before')).toBeNull();

    const imgs = r.batches.filter((b) => b.meta.stream === 'public.imgs' && b.data.numRows > 0);
    const events = imgs.flatMap((b) => changeRecords(b, { envelope: 'debezium', tombstones: false, headers: {}, name: 'pg' }));
    const envelope = (i: number) =>
      events[i].value as { before: Record<string, unknown> | null; after: Record<string, unknown> | null; op: string };
    expect(envelope(1)).toMatchObject({ op: 'u', before: old(1, 'a'), after: { id: 1, v: 'b' } });
    expect(envelope(4)).toMatchObject({ op: 'd', before: old(2, 'b'), after: null });
    expect(envelope(0)).toMatchObject({ op: 'c', before: null });
  });

  it('replicates TRUNCATE as a `t` batch that the PostgreSQL sink applies, routed by source table', async () => {
    await sql(
      src.url,
      "create table tr1 (id int primary key, v text); create table tr2 (id int primary key); insert into tr1 values (1, 'a'), (2, 'b'); insert into tr2 values (1)",
    );
    await sql(
      dst.url,
      'create schema replica; create table replica.tr1 (id int primary key, v text); create table replica.tr2 (id int primary key)',
    );
    const batches: Batch[] = [];
    const sink = new PostgresSink(config({ url: dst.url, target_schema: 'replica' }));
    const p = new Pipeline(cdc({ slot: 'trunc', publication: 'trunc', tables: ['tr1', 'tr2'] }), {
      write: async (b) => {
        batches.push(b);
        await sink.write(b);
      },
      close: () => sink.close(),
    });
    stops.push(() => p.stop());
    await p.waitFor(await currentLsn(src.url));
    expect(await sql(dst.url, 'select id, v from replica.tr1 order by id')).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
    await sql(
      src.url,
      "begin; insert into tr1 values (3, 'c'); truncate tr1; insert into tr1 values (4, 'd'); insert into tr2 values (2); commit",
    );
    await sql(src.url, "insert into tr1 values (5, 'e')");
    await p.waitFor(await currentLsn(src.url));
    expect(await sql(dst.url, 'select id, v from replica.tr1 order by id')).toEqual([
      { id: 4, v: 'd' },
      { id: 5, v: 'e' },
    ]);
    expect(await sql(dst.url, 'select id from replica.tr2 order by id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(changes(batches)).toEqual(['public.tr1:3:c', 'public.tr1:null:t', 'public.tr1:4:c', 'public.tr2:2:c', 'public.tr1:5:c']);
    const truncate = batches.find((b) => b.data.getChild('__op')!.get(0) === 't')!;
    expect(truncate.data.numRows).toBe(1);
    // Kafka: a Debezium `t` event without key; without the envelope nothing is sent for it.
    expect(changeRecords(truncate, { envelope: 'debezium', tombstones: true, headers: {}, name: 'pg' })).toEqual([
      expect.objectContaining({ key: null, value: expect.objectContaining({ op: 't', before: null, after: null }) }),
    ]);
    expect(changeRecords(truncate, { envelope: 'none', tombstones: true, headers: {}, name: 'pg' })).toEqual([]);
  });

  it('routes batches to tables by table_map before target_schema and table', async () => {
    const sink = new PostgresSink(
      config({ url: dst.url, table: 'fallback', table_map: { 'public.orders': 'sales.orders_copy', items: 'item_copy' } }),
    );
    const batch = (table: string, stream = table) => ({
      data: new (class {})() as never,
      meta: { stream, partition: 'p', position: undefined, kind: 'changelog' as const },
    });
    const withMeta = (table: string) => ({ ...batch('x'), data: { schema: { metadata: new Map([['sluice.table', table]]) } } as never });
    expect(sink.targetOf(withMeta('public.orders'))).toBe('sales.orders_copy');
    expect(sink.targetOf(withMeta('public.items'))).toBe('item_copy');
    expect(sink.targetOf(withMeta('public.other'))).toBe('fallback');
    const bySchema = new PostgresSink(config({ url: dst.url, target_schema: 'replica' }));
    expect(bySchema.targetOf(withMeta('public.orders'))).toBe('replica.orders');
    expect(() => parseConnectorConfig(postgresqlConnector, config({ url: dst.url }), 'sink')).toThrow(/table_map|target_schema/);
    const mapOnly = new PostgresSink(config({ url: dst.url, table_map: { a: 'b' } }));
    expect(() => mapOnly.targetOf(withMeta('public.zzz'))).toThrow(/no target table/);
  });
});
