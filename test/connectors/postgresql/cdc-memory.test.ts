import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CdcSource } from '../../../src/connectors/postgresql/cdc/cdc-source.js';
import { ReplicationStream, type ReplicationFrame } from '../../../src/connectors/postgresql/cdc/replication-stream.js';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import { stillReachable } from '../../support/gc.js';
import { Pipeline } from './cdc-driver.js';
import { config, createDatabase, sql } from './pg-helpers.js';

const TRANSACTIONS = 50;
const ROWS_PER_TRANSACTION = 40;

describe('postgresql cdc memory', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    db = await createDatabase('sluice_cdc_memory');
    await sql(db.url, 'create table t (id int primary key, v text)');
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await db?.drop();
  });

  it('keeps no frame it consumed reachable over a long session', async () => {
    // Every frame the replication stream hands out, watched without keeping it alive.
    const frames: WeakRef<ReplicationFrame>[] = [];
    const read = ReplicationStream.prototype.frames;
    vi.spyOn(ReplicationStream.prototype, 'frames').mockImplementation(async function* (this: ReplicationStream) {
      for await (const frame of read.call(this)) {
        frames.push(new WeakRef(frame));
        yield frame;
      }
    });
    // Both exist before the inserts, so the session streams every one of them.
    await sql(db.url, 'create publication memory for table t');
    await sql(db.url, "select pg_create_logical_replication_slot('memory', 'pgoutput')");
    const discard = { write: async () => undefined, close: async () => undefined };
    const pipeline = new Pipeline(
      new CdcSource(config({ url: db.url, mode: 'cdc', slot: 'memory', publication: 'memory', snapshot: 'never', heartbeat_ms: 200 })),
      discard,
    );
    try {
      for (let i = 0; i < TRANSACTIONS; i++) {
        const from = i * ROWS_PER_TRANSACTION;
        await sql(db.url, `insert into t select g, 'row ' || g from generate_series(${from}, ${from + ROWS_PER_TRANSACTION - 1}) g`);
      }
      const [{ lsn }] = await sql<{ lsn: string }>(db.url, 'select pg_current_wal_lsn()::text as lsn');
      await pipeline.waitFor(parseLsn(lsn));
      expect(pipeline.rows).toBe(TRANSACTIONS * ROWS_PER_TRANSACTION);

      // The session is still open, its abort signal still pending: the frames read are garbage.
      const consumed = frames.length;
      expect(consumed).toBeGreaterThanOrEqual(TRANSACTIONS * (ROWS_PER_TRANSACTION + 2));
      expect(await stillReachable(frames)).toBeLessThan(10);
    } finally {
      await pipeline.stop();
    }
  });
});
