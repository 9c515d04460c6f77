import type { DuckDBConnection } from '@duckdb/node-api';
import { Float64, Int32, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Batch } from '../../src/core/batch.js';
import { typedBatch } from './expression/helpers.js';
import { loadTable, openDuck, query } from './support/duck.js';
import { randomRows, rng, splitRandomly, SQL_COLUMNS, toArrow } from './support/random-data.js';
import { batchesOf, close, makeTransform, runTransform } from './support/run.js';

let db: DuckDBConnection;
beforeAll(async () => {
  db = await openDuck();
});
afterAll(() => db?.closeSync());

const FUNCS = ['sum', 'mean', 'min', 'max', 'count', 'std', 'median', 'count_distinct', 'first', 'last'] as const;
const SQL: Record<(typeof FUNCS)[number], (c: string) => string> = {
  sum: (c) => `sum(${c})`,
  mean: (c) => `avg(${c})`,
  min: (c) => `min(${c})`,
  max: (c) => `max(${c})`,
  count: (c) => `count(${c})`,
  std: (c) => `stddev_samp(${c})`,
  median: (c) => `median(${c})`,
  count_distinct: (c) => `count(DISTINCT ${c})`,
  first: (c) => `first(${c} ORDER BY __row) FILTER (WHERE ${c} IS NOT NULL)`,
  last: (c) => `last(${c} ORDER BY __row) FILTER (WHERE ${c} IS NOT NULL)`,
};

function keyOf(row: Record<string, unknown>, columns: string[]): string {
  return JSON.stringify(
    columns.map((c) => (row[c] instanceof Date ? (row[c] as Date).getTime() : (row[c] ?? null))),
    (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v),
  );
}

function compareByKey(ours: Record<string, unknown>[], theirs: Record<string, unknown>[], keys: string[], values: string[]): void {
  expect(ours.length).toBe(theirs.length);
  const expected = new Map(theirs.map((r) => [keyOf(r, keys), r]));
  for (const row of ours) {
    const other = expected.get(keyOf(row, keys));
    expect(other, `group ${keyOf(row, keys)}`).toBeDefined();
    for (const column of values) {
      const a = row[column] instanceof Date ? (row[column] as Date).getTime() : row[column];
      const b = other![column] instanceof Date ? (other![column] as Date).getTime() : other![column];
      expect(close(a, b), `${column} of ${keyOf(row, keys)}: ours ${String(a)}, duckdb ${String(b)}`).toBe(true);
    }
  }
}

describe('aggregate (bounded, exact) against DuckDB', () => {
  for (const seed of [1, 2, 3]) {
    it(`matches GROUP BY over random batches (seed ${seed})`, async () => {
      const random = rng(seed);
      const rows = randomRows(random, 1500);
      await loadTable(db, 'src', SQL_COLUMNS, rows);
      const aggregations = {
        x: [...FUNCS],
        k: ['sum', 'count', 'count_distinct', 'first', 'last', 'min', 'max'],
        ts: ['min', 'max', 'count'],
        empty: ['sum', 'count'],
      };
      const out = await runTransform('aggregate', { group_by: ['g', 'h'], aggregations }, splitRandomly(random, rows).map(toArrow));
      const result = out.filter((b) => b.data.numRows > 0);
      expect(result).toHaveLength(1);
      const ours = rowsOf(result[0].data);
      const select = Object.entries(aggregations).flatMap(([column, funcs]) =>
        funcs.map((f) => `${SQL[f as (typeof FUNCS)[number]](`"${column}"`)} AS "${column}_${f}"`),
      );
      const theirs = await query(
        db,
        `WITH t AS (SELECT * REPLACE (CASE WHEN isnan(x) THEN NULL ELSE x END AS x) FROM src) SELECT g, h, ${select.join(', ')} FROM t GROUP BY g, h`,
      );
      compareByKey(
        ours,
        theirs,
        ['g', 'h'],
        Object.entries(aggregations).flatMap(([c, fs]) => fs.map((f) => `${c}_${f}`)),
      );
    });
  }

  it('aggregates without group_by into one row, and names outputs as the seed expects', async () => {
    const data = typedBatch({ cost: [[1, 2, null, 4], new Float64()], resource_count: [[1, 1, 1, null], new Int32()] });
    const out = await runTransform('aggregate', { aggregations: { cost: ['sum', 'mean', 'max'], resource_count: 'count' } }, [data]);
    expect(rowsOf(out.at(-1)!.data)).toEqual([{ cost_sum: 7, cost_mean: 7 / 3, cost_max: 4, resource_count_count: 3n }]);
  });

  it('holds state with retainedFrom, answers every batch, and emits the result on completion', async () => {
    const datas = [0, 1, 2].map((i) => typedBatch({ region: [['eu', 'us', 'eu'], new Utf8()], cost: [[i, 10 * i, 1], new Float64()] }));
    const out = await runTransform('aggregate', { group_by: ['region'], aggregations: { cost: ['sum'] } }, datas);
    expect(out).toHaveLength(4);
    expect(out.slice(0, 3).map((b) => [b.meta.seq, b.meta.retainedFrom, b.data.numRows])).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [2, 0, 0],
    ]);
    expect(out[3].meta.retainedFrom).toBeUndefined();
    expect(out[3].meta.seq).toBe(2);
    expect(rowsOf(out[3].data)).toEqual([
      { region: 'eu', cost_sum: 6 },
      { region: 'us', cost_sum: 30 },
    ]);
  });

  it('refuses an unbounded input without a window, and a missing column names the columns', async () => {
    expect(() => makeTransform('aggregate', { aggregations: { cost: ['sum'] } }, { unbounded: true })).toThrow(/needs a window/);
    await expect(
      runTransform('aggregate', { aggregations: { nope: ['sum'] } }, [typedBatch({ cost: [[1], new Float64()] })]),
    ).rejects.toThrow(/no column 'nope'.*cost/);
  });
});

describe('aggregate with windows', () => {
  const HOUR = 3_600_000;
  const T0 = Date.UTC(2024, 0, 1);

  it('tumbling windows over out-of-order events: on-time rows match DuckDB, late rows are dead letters', async () => {
    const random = rng(7);
    const size = HOUR;
    const delay = 30 * 60_000;
    const lateness = 10 * 60_000;
    // Events move forward in time with jitter of up to 2 hours backwards.
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      ts: T0 + i * 60_000 - Math.floor(random() * 2 * HOUR),
      region: random() < 0.5 ? 'eu' : 'us',
      cost: Math.round(random() * 1000) / 10,
    }));
    const parts = splitRandomly(random, rows);
    // Reference lateness, computed independently: a row is late when its window closed before its batch.
    const onTime: typeof rows = [];
    const late: typeof rows = [];
    let max = -Infinity;
    for (const part of parts) {
      const watermark = max - delay;
      for (const row of part) (Math.floor(row.ts / size) * size + size + lateness <= watermark ? late : onTime).push(row);
      for (const row of part) if (!late.includes(row)) max = Math.max(max, row.ts);
    }
    expect(late.length).toBeGreaterThan(10);
    const datas = parts.map((p) =>
      typedBatch({
        ts: [p.map((r) => r.ts), new TimestampMillisecond()],
        region: [p.map((r) => r.region), new Utf8()],
        cost: [p.map((r) => r.cost), new Float64()],
      }),
    );
    const out = await runTransform(
      'aggregate',
      {
        group_by: ['region'],
        aggregations: { cost: ['sum', 'count', 'max'] },
        window: { type: 'tumbling', time_column: 'ts', size: '1h', watermark_delay: '30m', allowed_lateness: '10m' },
      },
      datas,
    );
    // One output per input, plus the final flush; meta carried.
    expect(out.slice(0, datas.length).map((b) => b.meta.seq)).toEqual(datas.map((_, i) => i));
    expect(out.at(-1)!.meta.retainedFrom).toBeUndefined();
    expect(out.slice(0, datas.length - 1).some((b) => b.meta.retainedFrom !== undefined)).toBe(true);
    const dead = out.flatMap((b) => b.meta.deadLetters ?? []);
    expect(dead.map((d) => (d.record as { ts: number }).ts).sort()).toEqual(late.map((r) => r.ts).sort());
    expect(dead.every((d) => d.node === 'aggregate' && /late/.test(d.reason))).toBe(true);

    // Each window is emitted exactly once.
    const ours = out.flatMap((b) => rowsOf(b.data));
    const windows = ours.map((r) => `${String(r.window_start)}|${String(r.region)}`);
    expect(new Set(windows).size).toBe(windows.length);
    await loadTable(db, 'ev', { ts: 'TIMESTAMP', region: 'VARCHAR', cost: 'DOUBLE' }, onTime);
    const theirs = await query(
      db,
      `SELECT epoch_ms(time_bucket(INTERVAL 1 HOUR, ts)) AS window_start, region, sum(cost) AS cost_sum, count(cost) AS cost_count, max(cost) AS cost_max
       FROM ev GROUP BY ALL`,
    );
    compareByKey(ours, theirs, ['window_start', 'region'], ['cost_sum', 'cost_count', 'cost_max']);
  });

  it('hopping windows put each row in size/slide windows', async () => {
    const data = typedBatch({ ts: [[T0, T0 + 20 * 60_000, T0 + 40 * 60_000], new TimestampMillisecond()], v: [[1, 2, 4], new Float64()] });
    const out = await runTransform(
      'aggregate',
      { aggregations: { v: ['sum'] }, window: { type: 'hopping', time_column: 'ts', size: '1h', slide: '30m' } },
      [data],
    );
    const rows = out.flatMap((b) => rowsOf(b.data)).map((r) => [Number(r.window_start) - T0, r.v_sum]);
    expect(rows).toEqual([
      [-30 * 60_000, 3],
      [0, 7],
      [30 * 60_000, 4],
    ]);
  });

  it('session windows split on the gap per key, merge bridged sessions and dead-letter late events', async () => {
    const m = 60_000;
    const b1 = typedBatch({
      ts: [[T0, T0 + 16 * m, T0 + 3 * m], new TimestampMillisecond()],
      user: [['a', 'a', 'b'], new Utf8()],
      v: [[1, 2, 10], new Float64()],
    });
    // 8m bridges a's two events into one session; the watermark moves to 40m: b's session [3m, 13m) closes.
    const b2 = typedBatch({
      ts: [[T0 + 8 * m, T0 + 50 * m], new TimestampMillisecond()],
      user: [['a', 'b'], new Utf8()],
      v: [[4, 20], new Float64()],
    });
    // 5m is older than the watermark (50m − 10m delay = 40m): late.
    const b3 = typedBatch({ ts: [[T0 + 5 * m], new TimestampMillisecond()], user: [['b'], new Utf8()], v: [[99], new Float64()] });
    const out = await runTransform(
      'aggregate',
      {
        group_by: ['user'],
        aggregations: { v: ['sum', 'first', 'last'] },
        window: { type: 'session', time_column: 'ts', gap: '10m', watermark_delay: '10m' },
      },
      [b1, b2, b3],
    );
    const rows = out
      .flatMap((b) => rowsOf(b.data))
      .map((r) => ({ ...r, window_start: Number(r.window_start) - T0, window_end: Number(r.window_end) - T0 }));
    expect(rows).toEqual(
      [
        { window_start: 0, window_end: 26 * m, user: 'a', v_sum: 7, v_first: 1, v_last: 4 },
        { window_start: 3 * m, window_end: 13 * m, user: 'b', v_sum: 10, v_first: 10, v_last: 10 },
        { window_start: 50 * m, window_end: 60 * m, user: 'b', v_sum: 20, v_first: 20, v_last: 20 },
      ].sort((x, y) => x.window_start - y.window_start),
    );
    expect(out[2].meta.deadLetters?.map((d) => d.record)).toEqual([{ ts: T0 + 5 * m, user: 'b', v: 99 }]);
  });

  it('stops on unsubscribe and forwards errors (operator behaviour)', () => {
    const input = new Subject<Batch>();
    const seen: Batch[] = [];
    let failed: unknown;
    const subscription = input
      .pipe(makeTransform('aggregate', { aggregations: { v: ['sum'] }, window: { type: 'tumbling', time_column: 'ts', size: 1000 } }))
      .subscribe({
        next: (b) => seen.push(b),
        error: (e: unknown) => (failed = e),
      });
    const [b] = batchesOf([typedBatch({ ts: [[1, 2], new TimestampMillisecond()], v: [[1, 2], new Float64()] })]);
    input.next(b);
    expect(seen).toHaveLength(1);
    input.next({ ...b, data: typedBatch({ v: [[1], new Float64()] }) });
    expect(String(failed)).toMatch(/no column 'ts'/);
    subscription.unsubscribe();
    expect(input.observed).toBe(false);
  });
});
