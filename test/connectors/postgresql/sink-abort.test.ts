import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Batch } from '../../../src/core/batch.js';
import { PostgresSink } from '../../../src/connectors/postgresql/sink.js';
import { textBatch } from '../../../src/connectors/postgresql/text-batch.js';
import { KEY_META } from '../../../src/core/changelog.js';
import { arrowFieldOf } from '../../../src/connectors/postgresql/types.js';
import { config, createDatabase, silent, sql } from './pg-helpers.js';

const fields = [
  arrowFieldOf('id', { oid: 23, name: 'int4', kind: 'scalar' }),
  arrowFieldOf('name', { oid: 25, name: 'text', kind: 'scalar' }),
];

function records(rows: [string, string][]): Batch {
  const columns = [0, 1].map((c) => rows.map((r) => r[c]));
  return {
    data: textBatch(fields, columns, new Map([[KEY_META, '["id"]']])),
    meta: { stream: 't', partition: 't', position: null, kind: 'records' },
  };
}

describe('postgresql sink: abort and lock timeout', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  /** A second session holding `lock table t in access exclusive mode` until released. */
  let holder: pg.Client;
  let holderPid: number;
  const table = () => sql(db.url, 'select id, name from t order by id');

  async function openSink(cfg: Record<string, unknown>): Promise<PostgresSink> {
    const sink = new PostgresSink(config({ url: db.url, table: 't', ...cfg }));
    await sink.open({ resuming: false, logger: silent });
    return sink;
  }
  /** Waits until a session of the database other than the holder waits for a lock. */
  async function blockedOnLock(): Promise<void> {
    for (;;) {
      const rows = await sql(db.url, "select 1 from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and pid <> $2", [
        db.name,
        holderPid,
      ]);
      if (rows.length > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    db = await createDatabase('sluice_sink_abort');
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await sql(db.url, "drop table if exists t; create table t (id int primary key, name text); insert into t values (9, 'old')");
    holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    await holder.query('begin; lock table t in access exclusive mode');
    return async () => {
      await holder.end();
    };
  });

  for (const mode of ['append', 'upsert', 'replace'] as const) {
    it(`cancels a ${mode} write blocked on a lock when its signal aborts, leaving the target unchanged`, async () => {
      const sink = await openSink({ write_mode: mode, lock_timeout_ms: 600_000 });
      try {
        const controller = new AbortController();
        const writing = sink.write(records([['1', 'new']]), controller.signal);
        await blockedOnLock();
        controller.abort(new Error('step timed out'));
        // Rejected while the other session still holds its lock: the statement was cancelled.
        await expect(writing).rejects.toMatchObject({ code: 'SLUICE_CANCELLED', message: expect.stringContaining('step timed out') });
        await holder.query('commit');
        expect(await table()).toEqual([{ id: 9, name: 'old' }]);
        // The connection is usable again; a replace that was never finished changed nothing.
        await sink.write(records([['2', 'next']]));
        if (mode !== 'replace')
          expect(await table()).toEqual([
            { id: 2, name: 'next' },
            { id: 9, name: 'old' },
          ]);
        else expect(await table()).toEqual([{ id: 9, name: 'old' }]);
      } finally {
        await sink.close();
      }
    });
  }

  it('refuses a write whose signal already aborted, writing nothing', async () => {
    await holder.query('commit');
    const sink = await openSink({ write_mode: 'append' });
    try {
      await expect(sink.write(records([['1', 'new']]), AbortSignal.abort(new Error('cancelled')))).rejects.toMatchObject({
        code: 'SLUICE_CANCELLED',
      });
      expect(await table()).toEqual([{ id: 9, name: 'old' }]);
    } finally {
      await sink.close();
    }
  });

  it('fails a write blocked on a lock once lock_timeout passes, with an error that says so', async () => {
    const sink = await openSink({ write_mode: 'upsert', lock_timeout_ms: 200 });
    try {
      await expect(sink.write(records([['1', 'new']]))).rejects.toMatchObject({
        code: 'SLUICE_SINK_FAILED',
        retriable: true,
        message: expect.stringMatching(/postgresql sink t: .*lock_timeout_ms \(200 ms\)/),
      });
      await holder.query('commit');
      expect(await table()).toEqual([{ id: 9, name: 'old' }]);
    } finally {
      await sink.close();
    }
  });

  it('fails a write statement that runs longer than statement_timeout, with an error that says so', async () => {
    await holder.query('commit');
    await sql(
      db.url,
      'create or replace function slow() returns trigger language plpgsql as $$ begin perform pg_sleep(5); return new; end $$',
    );
    await sql(db.url, 'create trigger slow before insert on t for each row execute function slow()');
    const sink = await openSink({ write_mode: 'append', statement_timeout_ms: 100 });
    try {
      await expect(sink.write(records([['1', 'new']]))).rejects.toMatchObject({
        code: 'SLUICE_SINK_FAILED',
        retriable: false,
        message: expect.stringMatching(/postgresql sink t: .*statement_timeout_ms \(100 ms\)/),
      });
      expect(await table()).toEqual([{ id: 9, name: 'old' }]);
    } finally {
      await sink.close();
    }
  });

  it('fails a replace whose swap waits for a lock longer than lock_timeout, leaving the target unchanged', async () => {
    await holder.query('commit');
    const sink = await openSink({ write_mode: 'replace', lock_timeout_ms: 200 });
    try {
      await sink.write(records([['1', 'new']]));
      await holder.query('begin; lock table t in access share mode');
      await expect(sink.finish()).rejects.toMatchObject({ code: 'SLUICE_SINK_FAILED', message: expect.stringMatching(/lock_timeout_ms/) });
      await holder.query('commit');
      expect(await table()).toEqual([{ id: 9, name: 'old' }]);
    } finally {
      await sink.close();
    }
  });
});
