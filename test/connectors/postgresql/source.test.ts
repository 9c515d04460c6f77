import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuerySource } from '../../../src/connectors/postgresql/source.js';
import { config, createDatabase, readAll, readContext, sql } from './pg-helpers.js';

describe('postgresql query source', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    db = await createDatabase('sluice_query');
    await sql(db.url, "create table big (id bigint primary key, v text); insert into big select g * 7, 'v' || g from generate_series(-500, 2500) g");
  });
  afterAll(async () => db?.drop());

  const ids = (batches: Awaited<ReturnType<typeof readAll>>) => batches.flatMap((b) => [...(b.data.getChild('id')!.toArray() as BigInt64Array)].map(Number));

  it('reads a table as key-range partitions that together hold every row once', async () => {
    const source = new QuerySource(config({ url: db.url, table: 'big', parallelism: 4, batch_size: 400 }));
    const partitions = await source.partitions();
    expect(partitions).toHaveLength(4);
    const perPartition = await Promise.all(partitions.map((p) => readAll(source, p)));
    for (const batches of perPartition) expect(ids(batches).length).toBeGreaterThan(500);
    const all = perPartition.flatMap(ids).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 3001 }, (_, i) => (i - 500) * 7));
  });

  it('passes parameters as values, never as SQL', async () => {
    const source = new QuerySource(config({ url: db.url, query: 'select id from big where v = $1 or v = $2', params: ['v1', "x' or '1'='1"] }));
    expect(ids(await readAll(source, 'query'))).toEqual([7]);
  });

  it('stops reading when the run is aborted', async () => {
    const controller = new AbortController();
    let batches = 0;
    const source = new QuerySource(config({ url: db.url, table: 'big', batch_size: 10 }));
    await new Promise<void>((resolve, reject) => {
      source.read('big', undefined, readContext(controller.signal)).subscribe({
        next: () => {
          if (++batches === 3) controller.abort();
        },
        complete: resolve,
        error: reject,
      });
    });
    expect(batches).toBeLessThan(10);
  });
});
