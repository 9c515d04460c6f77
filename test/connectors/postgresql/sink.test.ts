import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Field, List, Utf8 } from 'apache-arrow';
import type { Batch } from '../../../src/core/batch.js';
import { PostgresSink } from '../../../src/connectors/postgresql/sink.js';
import { textBatch } from '../../../src/connectors/postgresql/text-batch.js';
import { KEY_META } from '../../../src/core/changelog.js';
import { arrowFieldOf } from '../../../src/connectors/postgresql/types.js';
import { config, createDatabase, silent, sql } from './pg-helpers.js';

const fields = [
  arrowFieldOf('id', { oid: 23, name: 'int4', kind: 'scalar' }),
  arrowFieldOf('name', { oid: 25, name: 'text', kind: 'scalar' }),
  arrowFieldOf('body', { oid: 25, name: 'text', kind: 'scalar' }),
];

function records(rows: [string, string | null, string | null][]): Batch {
  const columns = [0, 1, 2].map((c) => rows.map((r) => r[c]));
  return {
    data: textBatch(fields, columns, new Map([[KEY_META, '["id"]']])),
    meta: { stream: 't', partition: 't', position: null, kind: 'records' },
  };
}

/** A changelog batch: rows of [op, id, name, body, unchanged columns]. */
function changes(rows: [string, string, string | null, string | null, string[]?][]): Batch {
  const all = [
    ...fields,
    new Field('__op', new Utf8(), false),
    new Field('__unchanged', new List(new Field('item', new Utf8(), true)), true),
  ];
  const columns = [
    rows.map((r) => r[1]),
    rows.map((r) => r[2]),
    rows.map((r) => r[3]),
    rows.map((r) => r[0]),
    rows.map((r) => (r[4] ? `{${r[4].join(',')}}` : null)),
  ];
  return {
    data: textBatch(all, columns, new Map([[KEY_META, '["id"]']])),
    meta: { stream: 't', partition: 't', position: null, kind: 'changelog' },
  };
}

describe('postgresql sink', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  const table = async () =>
    sql<{ id: number; name: string | null; body: string | null }>(db.url, 'select id, name, body from t order by id');

  async function run(cfg: Record<string, unknown>, batches: Batch[], finish = true): Promise<void> {
    const sink = new PostgresSink(config({ url: db.url, table: 't', ...cfg }));
    await sink.open({ resuming: false, logger: silent });
    try {
      for (const b of batches) await sink.write(b);
      if (finish) await sink.finish();
    } finally {
      await sink.close();
    }
  }

  /** A sink opened as a run opens it (a resume key when the run can resume); the caller closes it. */
  async function openSink(cfg: Record<string, unknown>, ctx: { resuming?: boolean; resumeKey?: string } = {}): Promise<PostgresSink> {
    const sink = new PostgresSink(config({ url: db.url, table: 't', ...cfg }));
    await sink.open({ resuming: ctx.resuming ?? false, resumeKey: ctx.resumeKey, logger: silent });
    return sink;
  }
  /** Staging tables of replaces in the database, temporary ones of live sessions included. */
  const stagingTables = async () =>
    (
      await sql<{ relname: string }>(
        db.url,
        "select relname from pg_class where relkind = 'r' and (relname like '%\\_\\_sluice%' or relname like 'sluice\\_replace%') order by 1",
      )
    ).map((r) => r.relname);

  beforeAll(async () => {
    db = await createDatabase('sluice_sink');
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    for (const staging of await stagingTables()) await sql(db.url, `drop table if exists "${staging}"`);
    await sql(
      db.url,
      "drop table if exists t; drop table if exists t__sluice_staging; create table t (id int primary key, name text, body text not null default '')",
    );
  });

  it('appends rows', async () => {
    await run({ write_mode: 'append' }, [
      records([
        ['1', 'a', 'x'],
        ['2', 'b', 'y'],
      ]),
      records([['3', 'c', 'z']]),
    ]);
    expect(await table()).toEqual([
      { id: 1, name: 'a', body: 'x' },
      { id: 2, name: 'b', body: 'y' },
      { id: 3, name: 'c', body: 'z' },
    ]);
  });

  it('upserts by primary key, the last row of a key in a batch winning; a replay changes nothing', async () => {
    await sql(db.url, "insert into t values (1, 'old', 'x')");
    const batch = records([
      ['1', 'new', 'x'],
      ['2', 'b', 'y'],
      ['2', 'b2', 'y2'],
    ]);
    await run({ write_mode: 'upsert' }, [batch]);
    const once = await table();
    expect(once).toEqual([
      { id: 1, name: 'new', body: 'x' },
      { id: 2, name: 'b2', body: 'y2' },
    ]);
    await run({ write_mode: 'upsert' }, [batch]);
    expect(await table()).toEqual(once);
  });

  it('applies changelog batches by key, keeping unknown (unchanged TOAST) values', async () => {
    await sql(db.url, "insert into t values (1, 'a', 'big-1'), (2, 'b', 'big-2'), (3, 'c', 'big-3')");
    const batch = changes([
      ['u', '1', 'a2', null, ['body']],
      ['d', '2', null, null],
      ['c', '4', 'd', 'big-4'],
      ['u', '4', 'd2', null, ['body']],
      ['r', '5', 'e', 'big-5'],
      ['d', '5', null, null],
      ['c', '5', 'e2', 'big-5b'],
    ]);
    await run({ write_mode: 'append' }, [batch]);
    const once = await table();
    expect(once).toEqual([
      { id: 1, name: 'a2', body: 'big-1' },
      { id: 3, name: 'c', body: 'big-3' },
      { id: 4, name: 'd2', body: 'big-4' },
      { id: 5, name: 'e2', body: 'big-5b' },
    ]);
    await run({ write_mode: 'append' }, [batch]);
    expect(await table()).toEqual(once);
  });

  it('replaces the table atomically at finish', async () => {
    await sql(db.url, "insert into t values (9, 'old', 'x')");
    await run({ write_mode: 'replace' }, [records([['1', 'a', 'x']]), records([['2', 'b', 'y']])]);
    expect(await table()).toEqual([
      { id: 1, name: 'a', body: 'x' },
      { id: 2, name: 'b', body: 'y' },
    ]);
    expect(await stagingTables()).toEqual([]);
  });

  it('keeps concurrent replaces of one table apart, in one-off writes and in separate runs', async () => {
    for (const [one, two] of [
      [undefined, undefined],
      ['run-1/load', 'run-2/load'],
    ]) {
      await sql(db.url, "delete from t; insert into t values (9, 'old', 'x')");
      const first = await openSink({ write_mode: 'replace' }, { resumeKey: one });
      const second = await openSink({ write_mode: 'replace' }, { resumeKey: two });
      try {
        await first.write(records([['1', 'a', 'x']]));
        await second.write(records([['2', 'b', 'y']]));
        await first.write(records([['3', 'c', 'z']]));
        await first.finish();
        expect(await table()).toEqual([
          { id: 1, name: 'a', body: 'x' },
          { id: 3, name: 'c', body: 'z' },
        ]);
        await second.finish();
        expect(await table()).toEqual([{ id: 2, name: 'b', body: 'y' }]);
      } finally {
        await first.close();
        await second.close();
      }
    }
  });

  it('refuses a second writer of the staging table of a run while the first is writing', async () => {
    const first = await openSink({ write_mode: 'replace' }, { resumeKey: 'run/load' });
    const second = await openSink({ write_mode: 'replace' }, { resumeKey: 'run/load' });
    try {
      await first.write(records([['1', 'a', 'x']]));
      await expect(second.write(records([['2', 'b', 'y']]))).rejects.toMatchObject({
        code: 'SLUICE_SINK_FAILED',
        retriable: false,
        message: expect.stringMatching(/in use by another run of run\/load/),
      });
      await first.finish();
      expect(await table()).toEqual([{ id: 1, name: 'a', body: 'x' }]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('leaves no staging table behind a run that cannot resume, and one per run that can', async () => {
    const oneOff = await openSink({ write_mode: 'replace' });
    await oneOff.write(records([['1', 'a', 'x']]));
    expect(await stagingTables()).toHaveLength(1);
    await oneOff.close();
    expect(await stagingTables()).toEqual([]);

    // A resumable run that dies before its swap keeps its rows for the resume.
    const crashed = await openSink({ write_mode: 'replace' }, { resumeKey: 'daily/load' });
    await crashed.write(records([['1', 'a', 'x']]));
    await crashed.close();
    const resumed = await openSink({ write_mode: 'replace' }, { resuming: true, resumeKey: 'daily/load' });
    await resumed.write(records([['2', 'b', 'y']]));
    await resumed.finish();
    await resumed.close();
    expect(await table()).toEqual([
      { id: 1, name: 'a', body: 'x' },
      { id: 2, name: 'b', body: 'y' },
    ]);

    // A fresh run of the same key starts its staging over: nothing of an abandoned run reaches the target.
    const abandoned = await openSink({ write_mode: 'replace' }, { resumeKey: 'daily/load' });
    await abandoned.write(records([['3', 'c', 'z']]));
    await abandoned.close();
    const fresh = await openSink({ write_mode: 'replace' }, { resumeKey: 'daily/load' });
    await fresh.write(records([['4', 'd', 'w']]));
    await fresh.finish();
    await fresh.close();
    expect(await table()).toEqual([{ id: 4, name: 'd', body: 'w' }]);
    expect(await stagingTables()).toHaveLength(1);
  });

  it('names staging tables within the identifier limit, apart for long table names that share a prefix', async () => {
    // 60 bytes each (ö is two), equal but for the last character.
    const names = ['1', '2'].map((n) => `${'ö'.repeat(29)}_${n}`);
    for (const name of names)
      await sql(db.url, `drop table if exists "${name}"; create table "${name}" (id int primary key, name text, body text)`);
    const sinks = await Promise.all(names.map((name) => openSink({ table: name, write_mode: 'replace' }, { resumeKey: 'run/load' })));
    try {
      await sinks[0].write(records([['1', 'a', 'x']]));
      await sinks[1].write(records([['2', 'b', 'y']]));
      for (const sink of sinks) await sink.finish();
    } finally {
      for (const sink of sinks) await sink.close();
    }
    expect(await sql(db.url, `select id from "${names[0]}"`)).toEqual([{ id: 1 }]);
    expect(await sql(db.url, `select id from "${names[1]}"`)).toEqual([{ id: 2 }]);
    for (const name of await stagingTables()) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  });

  it('leaves the target untouched when a replace fails or never finishes', async () => {
    await sql(db.url, "insert into t values (9, 'old', 'x')");
    // The second batch breaks the NOT NULL constraint of body.
    await expect(run({ write_mode: 'replace' }, [records([['1', 'a', 'x']]), records([['2', 'b', null]])])).rejects.toMatchObject({
      code: 'SLUICE_SINK_FAILED',
    });
    expect(await table()).toEqual([{ id: 9, name: 'old', body: 'x' }]);
    await run({ write_mode: 'replace' }, [records([['1', 'a', 'x']])], false);
    expect(await table()).toEqual([{ id: 9, name: 'old', body: 'x' }]);
  });

  it('adds columns a batch brings and creates a missing table with its key', async () => {
    await run({ table: 'created', create_table: true, write_mode: 'upsert' }, [records([['1', 'a', 'x']]), records([['1', 'b', 'x']])]);
    expect(await sql(db.url, 'select * from created')).toEqual([{ id: 1, name: 'b', body: 'x' }]);
    await sql(db.url, 'drop table t; create table t (id int primary key)');
    await run({ write_mode: 'upsert' }, [records([['1', 'a', 'x']])]);
    expect(await table()).toEqual([{ id: 1, name: 'a', body: 'x' }]);
  });
});
