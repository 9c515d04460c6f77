import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import type { Batch } from '../../../src/core/batch.js';
import type { ReadContext } from '../../../src/core/ports.js';
import { QuerySource } from '../../../src/connectors/postgresql/source.js';
import { config, createDatabase, readAll, readContext, sql } from './pg-helpers.js';

describe('postgresql query source', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    db = await createDatabase('sluice_query');
    await sql(
      db.url,
      "create table big (id bigint primary key, v text); insert into big select g * 7, 'v' || g from generate_series(-500, 2500) g",
    );
  });
  afterAll(async () => db?.drop());

  const ids = (batches: Awaited<ReturnType<typeof readAll>>) =>
    batches.flatMap((b) => [...(b.data.getChild('id')!.toArray() as BigInt64Array)].map(Number));

  it('reads a table as key-range partitions that together hold every row once', async () => {
    const source = new QuerySource(config({ url: db.url, table: 'big', parallelism: 4, batch_size: 400 }));
    const partitions = await source.partitions();
    expect(partitions).toHaveLength(4);
    const perPartition = await Promise.all(partitions.map((p) => readAll(source, p)));
    for (const batches of perPartition) expect(ids(batches).length).toBeGreaterThan(500);
    const all = perPartition.flatMap(ids).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 3001 }, (_, i) => (i - 500) * 7));
  });

  it('reads every key range in one snapshot, whatever commits while the ranges are read', async () => {
    await sql(
      db.url,
      "create table moving (id bigint primary key, v text); insert into moving select g, 'v' || g from generate_series(1, 1000) g",
    );
    const snapshot = await sql<{ id: string; v: string }>(db.url, 'select id::text, v from moving order by moving.id');
    const source = new QuerySource(config({ url: db.url, table: 'moving', parallelism: 4, batch_size: 50 }));
    const partitions = await source.partitions();
    // Inserts below and above the keys (a range computed again would move), updates, deletes.
    let changed!: () => void;
    const changes = new Promise<void>((resolve) => (changed = resolve));
    const change = async () => {
      await sql(
        db.url,
        "insert into moving select g, 'new' from generate_series(-2000, 0) g; insert into moving select g, 'new' from generate_series(1001, 5000) g",
      );
      await sql(db.url, "update moving set v = 'changed' where id % 3 = 0; delete from moving where id % 7 = 0");
      changed();
    };
    /** A partition read whose batches after the first wait for the changes to be committed. */
    const read = (partition: string, onFirst?: () => Promise<void>): Promise<Batch[]> => {
      let batches = 0;
      const ctx: ReadContext = { ...readContext(), flow: { acquire: async () => (batches++ === 0 ? onFirst?.() : changes) } };
      return lastValueFrom(source.read(partition, undefined, ctx).pipe(toArray()));
    };
    try {
      // Two ranges at a time, as the runtime reads them: the later two start after the changes.
      const first = await Promise.all([read(partitions[0], change), read(partitions[1])]);
      const later = await Promise.all([read(partitions[2]), read(partitions[3])]);
      const rows = [...first, ...later].flat().flatMap((b) => {
        const ids = b.data.getChild('id')!.toArray() as BigInt64Array;
        const values = b.data.getChild('v')!;
        return [...ids].map((id, i) => ({ id: String(id), v: values.get(i) as string }));
      });
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      expect(rows).toEqual(snapshot);
    } finally {
      await source.close();
    }
  });

  it('passes parameters as values, never as SQL', async () => {
    const source = new QuerySource(
      config({ url: db.url, query: 'select id from big where v = $1 or v = $2', params: ['v1', "x' or '1'='1"] }),
    );
    expect(ids(await readAll(source, 'query'))).toEqual([7]);
  });
});
