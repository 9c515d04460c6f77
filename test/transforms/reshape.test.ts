import type { DuckDBConnection } from '@duckdb/node-api';
import { Float64, Int32, Int64, Utf8 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/core/batch.js';
import { typedBatch } from './expression/helpers.js';
import { loadTable, openDuck, query } from './support/duck.js';
import { randomRows, rng, splitRandomly, SQL_COLUMNS, toArrow } from './support/random-data.js';
import { close, makeTransform, runTransform } from './support/run.js';

let db: DuckDBConnection;
beforeAll(async () => {
  db = await openDuck();
});
afterAll(() => db?.closeSync());

describe('pivot against DuckDB', () => {
  for (const aggfunc of ['sum', 'mean', 'count', 'max'] as const) {
    it(`pivots with ${aggfunc} over random batches`, async () => {
      const random = rng(61);
      const rows = randomRows(random, 1500).filter((r) => r.g !== null && r.g !== '');
      await loadTable(
        db,
        'src',
        SQL_COLUMNS,
        rows.map((r) => ({ ...r, x: Number.isNaN(r.x) ? null : r.x })),
      );
      const out = await runTransform('pivot', { index: 'h', columns: 'g', values: 'x', aggfunc }, splitRandomly(random, rows).map(toArrow));
      const result = out.at(-1)!;
      expect(result.meta.retainedFrom).toBeUndefined();
      expect(out.slice(0, -1).every((b) => b.meta.retainedFrom === 0 && b.data.numRows === 0)).toBe(true);
      const sql = { sum: 'sum', mean: 'avg', count: 'count', max: 'max' }[aggfunc];
      const theirs = await query(db, `PIVOT src ON g USING ${sql}(x) GROUP BY h ORDER BY h NULLS LAST`);
      const ours = rowsOf(result.data).sort((a, b) => (a.h === null ? 1 : b.h === null ? -1 : (a.h as number) - (b.h as number)));
      const names = result.data.schema.fields.map((f) => f.name);
      expect(names.slice(1)).toEqual([...names.slice(1)].sort());
      expect(new Set(names)).toEqual(new Set(Object.keys(theirs[0])));
      expect(ours.length).toBe(theirs.length);
      ours.forEach((row, i) => {
        for (const name of names) {
          // DuckDB counts a missing combination as 0; pivot leaves the cell null.
          const expected = aggfunc === 'count' && Number(theirs[i][name]) === 0 && name !== 'h' ? null : theirs[i][name];
          expect(close(row[name], expected), `${name} of h=${String(row.h)}: ${String(row[name])} vs ${String(expected)}`).toBe(true);
        }
      });
    });
  }

  it('names cells <values>_<pivot> with several value columns, and refuses an unbounded input', async () => {
    const data = typedBatch({
      rg: [['a', 'a', 'b'], new Utf8()],
      region: [['eu', 'us', 'eu'], new Utf8()],
      cost: [[1, 2, 3], new Float64()],
      cpu: [[10, 20, 30], new Float64()],
    });
    const out = await runTransform('pivot', { index: ['rg'], columns: 'region', values: ['cost', 'cpu'], aggfunc: 'sum' }, [data]);
    expect(rowsOf(out.at(-1)!.data)).toEqual([
      { rg: 'a', cost_eu: 1, cost_us: 2, cpu_eu: 10, cpu_us: 20 },
      { rg: 'b', cost_eu: 3, cost_us: null, cpu_eu: 30, cpu_us: null },
    ]);
    expect(() => makeTransform('pivot', { index: 'rg', columns: 'region', values: 'cost' }, { unbounded: true })).toThrow(/unbounded/);
  });
});

describe('unpivot against DuckDB', () => {
  it('melts numeric value columns block by block, per batch', async () => {
    const random = rng(62);
    const rows = randomRows(random, 600);
    await loadTable(
      db,
      'src',
      SQL_COLUMNS,
      rows.map((r) => ({ ...r, x: Number.isNaN(r.x) ? null : r.x })),
    );
    const batches = splitRandomly(random, rows).map(toArrow);
    const out = await runTransform('unpivot', { id_columns: ['id'], value_columns: ['x', 'h'], var_name: 'metric' }, batches, {
      unbounded: true,
    });
    expect(out).toHaveLength(batches.length);
    const ours = out
      .flatMap((b) => rowsOf(b.data))
      .sort((a, b) => (a.id as number) - (b.id as number) || String(a.metric).localeCompare(String(b.metric)));
    await db.run('CREATE OR REPLACE TABLE wide AS SELECT id, x, CAST(h AS DOUBLE) AS h FROM src');
    const theirs = await query(db, 'SELECT * FROM wide UNPIVOT INCLUDE NULLS (value FOR metric IN (x, h)) ORDER BY id, metric');
    expect(ours.map((r) => [r.id, r.metric, r.value])).toEqual(theirs.map((r) => [r.id, r.metric, r.value]));
  });

  it('falls back to text values for mixed columns', async () => {
    const data = typedBatch({ id: [[1, 2], new Int32()], name: [['a', null], new Utf8()], n: [[5n, 6n], new Int64()] });
    const out = await runTransform('unpivot', { id_columns: ['id'] }, [data]);
    expect(rowsOf(out[0].data)).toEqual([
      { id: 1, variable: 'name', value: 'a' },
      { id: 2, variable: 'name', value: null },
      { id: 1, variable: 'n', value: '5' },
      { id: 2, variable: 'n', value: '6' },
    ]);
  });
});

describe('mask', () => {
  it('hashes with a salt like DuckDB sha256, redacts and partially masks unicode text', async () => {
    const data = typedBatch({
      email: [['ann@example.com', null, 'bob@example.com', 'ann@example.com'], new Utf8()],
      card: [['4111111111111111', '12', 'héllo😀wörld', null], new Utf8()],
      notes: [['secret', 'x', null, 'y'], new Utf8()],
      account: [[1234567n, 42n, 7n, 1n], new Int64()],
    });
    const out = await runTransform(
      'mask',
      {
        columns: {
          email: { method: 'hash', salt: 's3cret' },
          card: { method: 'partial', keep_last: 4 },
          notes: { method: 'redact' },
          account: { method: 'partial', keep_first: 1, keep_last: 1, mask_char: '#' },
        },
      },
      [data],
    );
    const rows = rowsOf(out[0].data);
    const [expected] = await query(db, "SELECT sha256('s3cret' || 'ann@example.com') AS ann, sha256('s3cret' || 'bob@example.com') AS bob");
    expect(rows.map((r) => r.email)).toEqual([expected.ann, null, expected.bob, expected.ann]);
    expect(rows.map((r) => r.card)).toEqual(['************1111', '**', '*******örld', null]);
    expect(rows.map((r) => r.notes)).toEqual(['[REDACTED]', '[REDACTED]', null, '[REDACTED]']);
    expect(rows.map((r) => r.account)).toEqual(['1#####7', '##', '#', '#']);
  });
});
