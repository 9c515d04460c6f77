import type { DuckDBConnection } from '@duckdb/node-api';
import { Float64, Int32, Utf8 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Batch } from '../../src/core/batch.js';
import { typedBatch } from './expression/helpers.js';
import { loadTable, openDuck, query } from './support/duck.js';
import { randomRows, rng, splitRandomly, SQL_COLUMNS, toArrow } from './support/random-data.js';
import { close, makeTransform, runTransform } from './support/run.js';

let db: DuckDBConnection;
beforeAll(async () => {
  db = await openDuck();
});
afterAll(() => db?.closeSync());

/** Loads random rows into DuckDB as `src` (NaN as NULL, as clean treats it) and as batches. */
async function setup(seed: number, n = 1200) {
  const random = rng(seed);
  const rows = randomRows(random, n);
  await loadTable(
    db,
    'src',
    SQL_COLUMNS,
    rows.map((r) => ({ ...r, x: Number.isNaN(r.x) ? null : r.x })),
  );
  return { rows, batches: splitRandomly(random, rows).map(toArrow) };
}

const outRows = (out: Batch[]) => out.flatMap((b) => rowsOf(b.data));

describe('clean against DuckDB', () => {
  it('removes duplicates keeping the first row of each key, across batches, as it streams', async () => {
    const { batches } = await setup(11);
    const out = await runTransform('clean', { remove_duplicates: true, duplicate_columns: ['g', 'h'] }, batches, { unbounded: true });
    expect(out).toHaveLength(batches.length);
    expect(out.every((b) => b.meta.retainedFrom === undefined)).toBe(true);
    const theirs = await query(db, 'SELECT id FROM src QUALIFY row_number() OVER (PARTITION BY g, h ORDER BY id) = 1 ORDER BY id');
    expect(outRows(out).map((r) => r.id)).toEqual(theirs.map((r) => r.id));
  });

  it('keep: last holds the input and keeps the last row of each key', async () => {
    const { batches } = await setup(12);
    const out = await runTransform('clean', { remove_duplicates: true, duplicate_columns: ['g', 'h'], keep: 'last' }, batches);
    expect(out.slice(0, batches.length).every((b) => b.data.numRows === 0 && b.meta.retainedFrom === 0)).toBe(true);
    const theirs = await query(db, 'SELECT id FROM src QUALIFY row_number() OVER (PARTITION BY g, h ORDER BY id DESC) = 1 ORDER BY id');
    expect(outRows(out).map((r) => r.id)).toEqual(theirs.map((r) => r.id));
    expect(out.at(-1)!.meta.retainedFrom).toBeUndefined();
  });

  it('without duplicate_columns compares every column', async () => {
    const data = typedBatch({ a: [[1, 1, 1, null, null], new Int32()], b: [['x', 'x', 'y', null, null], new Utf8()] });
    const out = await runTransform('clean', { remove_duplicates: true }, [data]);
    expect(outRows(out)).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: null, b: null },
    ]);
  });

  it("fills missing values with the seed's fill_values config (NaN counts as missing)", async () => {
    const { batches } = await setup(13);
    const config = { remove_duplicates: false, missing_values: { strategy: 'fill', fill_values: { g: 'unknown', x: 0.0, k: 7 } } };
    const out = await runTransform('clean', config, batches, { unbounded: true });
    const theirs = await query(db, "SELECT id, coalesce(g, 'unknown') AS g, coalesce(x, 0) AS x, coalesce(k, 7) AS k FROM src ORDER BY id");
    const ours = outRows(out);
    expect(ours.map((r) => [r.id, r.g, r.x, Number(r.k)])).toEqual(theirs.map((r) => [r.id, r.g, r.x, Number(r.k)]));
  });

  it('drops rows with a missing value in the given columns', async () => {
    const { batches } = await setup(14);
    const out = await runTransform('clean', { missing_values: { strategy: 'drop', columns: ['x', 'g'] } }, batches);
    const theirs = await query(db, 'SELECT id FROM src WHERE x IS NOT NULL AND g IS NOT NULL ORDER BY id');
    expect(outRows(out).map((r) => r.id)).toEqual(theirs.map((r) => r.id));
  });

  for (const [strategy, sql] of [
    ['mean', 'avg(x)'],
    ['median', 'median(x)'],
  ] as const) {
    it(`fills with the ${strategy} of the whole input`, async () => {
      const { batches } = await setup(15);
      const out = await runTransform('clean', { missing_values: { strategy, columns: ['x'] } }, batches);
      const [{ fill }] = await query(db, `SELECT ${sql} AS fill FROM src`);
      const theirs = await query(db, `SELECT id, coalesce(x, (SELECT ${sql} FROM src)) AS x FROM src ORDER BY id`);
      const ours = outRows(out);
      expect(ours).toHaveLength(theirs.length);
      ours.forEach((row, i) =>
        expect(close(row.x, theirs[i].x), `row ${i}: ${String(row.x)} vs ${String(theirs[i].x)} (fill ${String(fill)})`).toBe(true),
      );
    });
  }

  it('fills with the mode (ties to the smallest value)', async () => {
    const data = typedBatch({ s: [['b', null, 'a', 'b', 'a', null], new Utf8()], n: [[3, 1, null, 1, 3, null], new Int32()] });
    const out = await runTransform('clean', { missing_values: { strategy: 'mode' } }, [data]);
    expect(outRows(out).map((r) => [r.s, r.n])).toEqual([
      ['b', 3],
      ['a', 1],
      ['a', 1],
      ['b', 1],
      ['a', 3],
      ['a', 1],
    ]);
  });

  it('forward-fills across batch boundaries', async () => {
    const { batches } = await setup(16);
    const out = await runTransform('clean', { missing_values: { strategy: 'forward_fill', columns: ['x', 'g'] } }, batches, {
      unbounded: true,
    });
    const theirs = await query(
      db,
      `SELECT id, last_value(x IGNORE NULLS) OVER w AS x, last_value(g IGNORE NULLS) OVER w AS g FROM src
       WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) ORDER BY id`,
    );
    expect(outRows(out).map((r) => [r.id, r.x, r.g])).toEqual(theirs.map((r) => [r.id, r.x, r.g]));
  });

  it("removes IQR outliers over the whole input (the seed's config)", async () => {
    const { batches } = await setup(17);
    const config = {
      remove_duplicates: false,
      missing_values: { strategy: 'fill', fill_values: { g: 'unknown' } },
      remove_outliers: true,
      outlier_columns: ['k'],
    };
    const out = await runTransform('clean', config, batches);
    const theirs = await query(
      db,
      `WITH q AS (SELECT quantile_cont(k, 0.25) AS q1, quantile_cont(k, 0.75) AS q3 FROM src)
       SELECT id FROM src, q WHERE k IS NULL OR (k >= q1 - 1.5 * (q3 - q1) AND k <= q3 + 1.5 * (q3 - q1)) ORDER BY id`,
    );
    const ours = outRows(out).map((r) => r.id);
    expect(ours.length).toBeLessThan(1200);
    expect(ours).toEqual(theirs.map((r) => r.id));
  });

  it('clips z-score outliers to mean ± threshold·std', async () => {
    const { batches } = await setup(18);
    const out = await runTransform(
      'clean',
      { remove_outliers: true, outlier_columns: ['x'], outlier_method: 'zscore', outlier_threshold: 1, outlier_action: 'clip' },
      batches,
    );
    const theirs = await query(
      db,
      `WITH s AS (SELECT avg(x) AS m, stddev_samp(x) AS sd FROM src) SELECT id, CASE WHEN x IS NULL THEN NULL ELSE least(greatest(x, m - sd), m + sd) END AS x FROM src, s ORDER BY id`,
    );
    const ours = outRows(out);
    expect(ours.map((r) => r.id)).toEqual(theirs.map((r) => r.id));
    ours.forEach((row, i) => expect(close(row.x, theirs[i].x, 1e-7), `row ${i}: ${String(row.x)} vs ${String(theirs[i].x)}`).toBe(true));
  });

  it('rejects whole-input options on an unbounded input, and a fill value of the wrong type', async () => {
    expect(() => makeTransform('clean', { remove_outliers: true }, { unbounded: true })).toThrow(/remove_outliers.*unbounded/);
    expect(() => makeTransform('clean', { missing_values: { strategy: 'median' } }, { unbounded: true })).toThrow(/median/);
    const data = typedBatch({ cost: [[1, null], new Float64()] });
    await expect(runTransform('clean', { missing_values: { strategy: 'fill', fill_values: { cost: 'none' } } }, [data])).rejects.toThrow(
      /cannot put "none" in a float column/,
    );
  });
});

describe('normalize against DuckDB', () => {
  it("scales the seed's column lists over the whole input", async () => {
    const { batches } = await setup(21);
    const out = await runTransform('normalize', { min_max_columns: ['x'], zscore_columns: ['k'], unit_scale_columns: ['h'] }, batches);
    expect(out.slice(0, batches.length).every((b) => b.meta.retainedFrom === 0 && b.data.numRows === 0)).toBe(true);
    const theirs = await query(
      db,
      `WITH s AS (SELECT min(x) AS lo, max(x) AS hi, avg(k) AS m, stddev_samp(k) AS sd, max(abs(h)) AS mh FROM src)
       SELECT id, (x - lo) / (hi - lo) AS x, (k - m) / sd AS k, h / mh AS h FROM src, s ORDER BY id`,
    );
    const ours = outRows(out);
    expect(ours.map((r) => r.id)).toEqual(theirs.map((r) => r.id));
    ours.forEach((row, i) => {
      for (const c of ['x', 'k', 'h']) expect(close(row[c], theirs[i][c], 1e-9), `${c} of row ${i}`).toBe(true);
    });
  });

  it('makes a constant column 0, keeps nulls, and refuses an unbounded input', async () => {
    const out = await runTransform('normalize', { min_max_columns: ['v'], zscore_columns: ['w'] }, [
      typedBatch({ v: [[5, 5, null], new Float64()], w: [[1, 1, 1], new Float64()] }),
    ]);
    expect(outRows(out)).toEqual([
      { v: 0, w: 0 },
      { v: 0, w: 0 },
      { v: null, w: 0 },
    ]);
    expect(() => makeTransform('normalize', { min_max_columns: ['v'] }, { unbounded: true })).toThrow(/whole input/);
  });
});
