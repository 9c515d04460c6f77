import type { DuckDBConnection } from '@duckdb/node-api';
import { Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectType } from '../../src/transforms/profile/type-detect.js';
import { profileTable } from '../../src/transforms/profile/profiler.js';
import { typedBatch } from './expression/helpers.js';
import { loadTable, openDuck, query } from './support/duck.js';
import { randomRows, rng, splitRandomly, SQL_COLUMNS, toArrow } from './support/random-data.js';
import { close, runTransform } from './support/run.js';

let db: DuckDBConnection;
beforeAll(async () => {
  db = await openDuck();
});
afterAll(() => db?.closeSync());

describe('type detection', () => {
  it('infers the narrowest type every value fits', () => {
    expect(detectType(['1', '-2', ''])).toBe('int');
    expect(detectType(['1', '2.5', '1e3'])).toBe('float');
    expect(detectType(['true', 'no', 'Y'])).toBe('bool');
    expect(detectType(['2024-01-31', '2024-02-01'])).toBe('date');
    expect(detectType(['2024-01-31', '2024-02-01 10:00:00'])).toBe('timestamp');
    expect(detectType(['2024-01-31T10:00:00Z', '2024-02-01T10:00:00+02:00'])).toBe('timestamp');
    expect(detectType(['{"a": 1}', '[1, 2]'])).toBe('json');
    expect(detectType(['{"a": 1', '[1, 2]'])).toBe('string');
    expect(detectType(['1', 'x'])).toBe('string');
    expect(detectType([null, ''])).toBe('null');
  });
});

describe('profileTable against DuckDB', () => {
  it('matches null counts, distinct counts, statistics, quantiles, duplicates and top values', async () => {
    const random = rng(41);
    const rows = randomRows(random, 2000).map((r) => ({ ...r, id: r.id % 1500 }));
    await loadTable(db, 'src', SQL_COLUMNS, rows);
    const report = profileTable(splitRandomly(random, rows).map(toArrow), { topValues: 3 });
    expect(report.row_count).toBe(2000);
    const [{ dups }] = await query(
      db,
      'SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (__row) FROM src)) AS dups FROM src',
    );
    expect(report.duplicate_rows).toBe(Number(dups));

    const x = report.columns.find((c) => c.name === 'x')!;
    const [s] = await query(
      db,
      `WITH t AS (SELECT CASE WHEN isnan(x) THEN NULL ELSE x END AS x FROM src)
       SELECT count(*) FILTER (WHERE x IS NULL) AS nulls, count(DISTINCT x) AS distinct_count, min(x) AS lo, max(x) AS hi, avg(x) AS mean,
              stddev_samp(x) AS sd, quantile_cont(x, 0.25) AS p25, median(x) AS p50, quantile_cont(x, 0.75) AS p75 FROM t`,
    );
    expect(x.null_count).toBe(Number(s.nulls));
    expect(x.null_ratio).toBeCloseTo(Number(s.nulls) / 2000);
    expect(x.distinct_count).toBe(Number(s.distinct_count));
    expect(x.distinct_exact).toBe(true);
    expect([x.min, x.max]).toEqual([s.lo, s.hi]);
    for (const [ours, theirs] of [
      [x.mean, s.mean],
      [x.std, s.sd],
      [x.quantiles!.p25, s.p25],
      [x.quantiles!.p50, s.p50],
      [x.quantiles!.p75, s.p75],
    ])
      expect(close(ours, theirs)).toBe(true);

    const g = report.columns.find((c) => c.name === 'g')!;
    expect(g.inferred_type).toBe('string');
    const top = await query(
      db,
      'SELECT g AS value, count(*) AS count FROM src WHERE g IS NOT NULL GROUP BY g ORDER BY count DESC, g LIMIT 3',
    );
    expect(g.top_values.map((t) => t.count)).toEqual(top.map((t) => Number(t.count)));
    expect(g.top_values[0].value).toBe(top[0].value);
    const empty = report.columns.find((c) => c.name === 'empty')!;
    expect(empty).toMatchObject({ null_count: 2000, null_ratio: 1, distinct_count: 0 });
  });

  it('estimates distinct counts with a sketch beyond the limit, and infers types of text columns', () => {
    const n = 60_000;
    const ids = Array.from({ length: n }, (_, i) => `id-${i % 50_000}`);
    const amounts = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? '' : String(i / 4)));
    const table = new Table({ id: vectorFromArray(ids, new Utf8()), amount: vectorFromArray(amounts, new Utf8()) });
    const report = profileTable(table, { distinctLimit: 1000 });
    const id = report.columns[0];
    expect(id.distinct_exact).toBe(false);
    expect(Math.abs(id.distinct_count - 50_000) / 50_000).toBeLessThan(0.03);
    expect(report.columns[1].inferred_type).toBe('float');
  });

  it('the profile transform passes batches through unchanged', async () => {
    const data = typedBatch({ v: [[1, 2], new Float64()] });
    const out = await runTransform('profile', {}, [data]);
    expect(out[0].data).toBe(data);
  });
});
