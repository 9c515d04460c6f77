import type { DuckDBConnection } from '@duckdb/node-api';
import { Float64, Int32, Utf8 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/core/batch.js';
import { validateTable } from '../../src/transforms/validation/validator.js';
import { typedBatch } from './expression/helpers.js';
import { loadTable, openDuck, query } from './support/duck.js';
import { randomRows, rng, splitRandomly, SQL_COLUMNS, toArrow } from './support/random-data.js';
import { runTransform } from './support/run.js';

let db: DuckDBConnection;
beforeAll(async () => {
  db = await openDuck();
});
afterAll(() => db?.closeSync());

const SEED_RULES = [
  { name: 'required_fields', type: 'not_null', columns: ['resource_id', 'compliance_status'] },
  { name: 'unique_resources', type: 'unique', columns: ['resource_id'] },
  { name: 'valid_cost_range', type: 'range', column: 'monthly_cost', min_value: 0, max_value: 1000000 },
];

describe('validate', () => {
  it("accepts the seed's validation_rules verbatim and reports per-rule counts and a score", async () => {
    const data = typedBatch({
      resource_id: [['vm-1', 'vm-2', 'vm-1', null, 'vm-3'], new Utf8()],
      compliance_status: [['ok', null, 'ok', 'bad', 'ok'], new Utf8()],
      monthly_cost: [[10, -1, 2_000_000, 5, null], new Float64()],
    });
    const out = await runTransform('validate', { validation_rules: SEED_RULES }, [data]);
    // Default action flag: every row kept, failures named.
    expect(rowsOf(out[0].data).map((r) => r._validation_flags)).toEqual([
      null,
      'required_fields,valid_cost_range',
      'unique_resources,valid_cost_range',
      'required_fields',
      null,
    ]);
    const report = validateTable([data], SEED_RULES as never);
    expect(report.rules.map((r) => [r.name, r.passed, r.failed])).toEqual([
      ['required_fields', 3, 2],
      ['unique_resources', 4, 1],
      ['valid_cost_range', 3, 2],
    ]);
    expect(report).toMatchObject({ rows_checked: 5, rows_failed: 3, rows_passed: 2 });
    expect(report.data_quality_score).toBeCloseTo(10 / 15);
  });

  it('dead-letters failing rows with the rules they broke, across batches, matching DuckDB counts', async () => {
    const random = rng(31);
    const rows = randomRows(random, 1500);
    await loadTable(
      db,
      'src',
      SQL_COLUMNS,
      rows.map((r) => ({ ...r, x: Number.isNaN(r.x) ? null : r.x })),
    );
    const rules = [
      { name: 'x_range', type: 'range', column: 'x', min_value: 0, max_value: 100, action: 'dead_letter' },
      { name: 'known_region', type: 'allowed_values', column: 'g', values: ['eu-west', 'us-east', 'ap-south'], action: 'dead_letter' },
      { name: 'g_pattern', type: 'regex', column: 'g', pattern: '^[a-z]+-[a-z]+$', action: 'flag' },
      { name: 'gh_unique', type: 'unique', columns: ['g', 'h'], action: 'flag' },
      { name: 'k_small', type: 'expression', expression: 'k < 1000000', action: 'flag' },
    ];
    const batches = splitRandomly(random, rows).map(toArrow);
    const out = await runTransform('validate', { validation_rules: rules }, batches, { unbounded: true });
    expect(out).toHaveLength(batches.length);
    const kept = out.flatMap((b) => rowsOf(b.data));
    const dead = out.flatMap((b) => b.meta.deadLetters ?? []);
    const [expected] = await query(
      db,
      `SELECT count(*) FILTER (WHERE x < 0 OR x > 100 OR g NOT IN ('eu-west', 'us-east', 'ap-south')) AS dead,
              count(*) FILTER (WHERE regexp_full_match(g, '[a-z]+-[a-z]+') = false) AS bad_pattern,
              count(*) FILTER (WHERE NOT (k < 1000000) OR k IS NULL) AS big_k
       FROM src`,
    );
    expect(dead.length).toBe(Number(expected.dead));
    expect(kept.length + dead.length).toBe(rows.length);
    expect(dead.every((d) => /x_range|known_region/.test(d.reason) && d.node === 'validate')).toBe(true);
    const deadIds = new Set(dead.map((d) => (d.record as { id: number }).id));
    const keptIds = kept.map((r) => r.id as number);
    expect(keptIds.some((id) => deadIds.has(id))).toBe(false);
    // Flag counts over every row (checks run before rows are dead-lettered).
    const report = validateTable(batches, rules as never);
    expect(report.rules.find((r) => r.name === 'g_pattern')!.failed).toBe(Number(expected.bad_pattern));
    expect(report.rules.find((r) => r.name === 'k_small')!.failed).toBe(Number(expected.big_k));
    const [{ dups }] = await query(db, 'SELECT count(*) - count(DISTINCT (g, h)) AS dups FROM src WHERE g IS NOT NULL AND h IS NOT NULL');
    expect(report.rules.find((r) => r.name === 'gh_unique')!.failed).toBe(Number(dups));
  });

  it('fails the run on a fail rule, naming the rule and the first bad row', async () => {
    const data = typedBatch({ id: [[1, 2, 3], new Int32()], status: [['ok', 'weird', 'ok'], new Utf8()] });
    await expect(
      runTransform(
        'validate',
        { validation_rules: [{ name: 'status_known', type: 'allowed_values', column: 'status', values: ['ok'], action: 'fail' }] },
        [data],
      ),
    ).rejects.toThrow(/status_known.*1 row.*"id":2/);
  });

  it('checks types of text values and schemas of typed columns', () => {
    const data = typedBatch({ raw: [['1', '2.5', 'x', null], new Utf8()], n: [[1, 2, 3, 4], new Int32()] });
    const report = validateTable([data], [
      { name: 'raw_float', type: 'type', column: 'raw', expected_type: 'float' },
      { name: 'shape', type: 'schema', schema: { n: 'float', missing_col: 'string' } },
    ] as never);
    expect(report.rules.map((r) => r.failed)).toEqual([1, 4]);
  });

  it('rejects an incomplete rule at creation', async () => {
    await expect(runTransform('validate', { validation_rules: [{ type: 'range', column: 'x' }] }, [])).rejects.toThrow(
      /range needs min_value/,
    );
  });
});
