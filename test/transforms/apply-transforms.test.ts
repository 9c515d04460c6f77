import { Float64, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/core/batch.js';
import { applyTransforms, orderByPriority } from '../../src/transforms/apply-transforms.js';
import { typedBatch } from './expression/helpers.js';

const table = () => [
  typedBatch({ resource_id: [['a', 'b', 'a'], new Utf8()], status: [[null, 'ok', 'ok'], new Utf8()], cost: [[null, 3, 8], new Float64()] }),
  typedBatch({ resource_id: [['c', 'd'], new Utf8()], status: [['bad', null], new Utf8()], cost: [[20, null], new Float64()] }),
];

describe('applyTransforms', () => {
  it('runs the list in priority order and reports rows in/out and time per step', async () => {
    const fill = {
      rule_id: 'clean_001',
      name: 'Basic Cleaning',
      type: 'clean',
      config: { missing_values: { strategy: 'fill', fill_values: { cost: 10, status: 'unknown' } } },
    };
    const keep = { rule_id: 'filter_001', type: 'filter', config: { condition: 'cost > 5' } };
    const first = await applyTransforms(table(), [
      { ...keep, priority: 2 },
      { ...fill, priority: 1 },
    ]);
    expect(first.stats.map((s) => [s.rule_id, s.rows_in, s.rows_out])).toEqual([
      ['clean_001', 5, 5],
      ['filter_001', 5, 4],
    ]);
    expect(first.batches.flatMap((b) => rowsOf(b)).map((r) => [r.resource_id, r.status, r.cost])).toEqual([
      ['a', 'unknown', 10],
      ['a', 'ok', 8],
      ['c', 'bad', 20],
      ['d', 'unknown', 10],
    ]);
    expect(first.stats.every((s) => s.duration_ms >= 0)).toBe(true);
    // Reversed priorities: the filter drops the null costs before they are filled.
    const second = await applyTransforms(table(), [
      { ...keep, priority: 1 },
      { ...fill, priority: 2 },
    ]);
    expect(second.batches.flatMap((b) => rowsOf(b)).map((r) => r.resource_id)).toEqual(['a', 'c']);
  });

  it('returns the quality report of validate steps and collects dead letters', async () => {
    const result = await applyTransforms(table(), [
      {
        type: 'validate',
        config: {
          validation_rules: [
            { name: 'unique_resources', type: 'unique', columns: ['resource_id'], action: 'dead_letter' },
            { name: 'has_status', type: 'not_null', columns: ['status'] },
          ],
        },
      },
      { type: 'aggregate', config: { aggregations: { cost: ['sum', 'count'] } } },
    ]);
    expect(result.stats[0]).toMatchObject({ type: 'validate', rows_in: 5, rows_out: 4, dead_letters: 1 });
    expect(result.stats[0].quality!.rules.map((r) => r.failed)).toEqual([1, 2]);
    expect(result.deadLetters.map((d) => d.record)).toEqual([{ resource_id: 'a', status: 'ok', cost: 8 }]);
    expect(rowsOf(result.batches[0])).toEqual([{ cost_sum: 23, cost_count: 2n }]);
  });

  it('orders stably, skips disabled entries and rejects unknown types or bad configs before running', async () => {
    expect(
      orderByPriority([
        { type: 'a' },
        { type: 'b', priority: 5 },
        { type: 'c', priority: 1 },
        { type: 'd', enabled: false },
        { type: 'e', priority: 1 },
      ]).map((s) => s.type),
    ).toEqual(['c', 'e', 'b', 'a']);
    await expect(applyTransforms(table(), [{ type: 'nope' }])).rejects.toMatchObject({ code: 'SLUICE_UNKNOWN_TYPE' });
    await expect(applyTransforms(table(), [{ type: 'clean', rule_id: 'c1', config: { remove_outliers: 'yes' } }])).rejects.toThrow(
      /transformations\.c1\.config\.remove_outliers/,
    );
  });

  it("runs the seed's cleaning, normalization and aggregation examples verbatim", async () => {
    const data = typedBatch({
      resource_id: [['r1', 'r2', 'r2', 'r3', 'r4', 'r5'], new Utf8()],
      resource_group: [['rg-a', 'rg-a', 'rg-a', 'rg-b', 'rg-b', 'rg-b'], new Utf8()],
      region: [['eastus', 'eastus', 'eastus', 'westus', 'westus', 'westus'], new Utf8()],
      compliance_status: [['ok', null, null, 'bad', 'ok', 'ok'], new Utf8()],
      cost: [[10, null, null, 30, 40, 50], new Float64()],
      cpu_utilization: [[0.5, 0.7, 0.7, 0.2, 0.4, 0.6], new Float64()],
      utilization: [[1, 2, 2, 3, 4, 5], new Float64()],
      response_time: [[100, 200, 200, 300, 400, 500], new Float64()],
      storage_size: [[-8, 4, 4, 2, 1, 0], new Float64()],
      resource_count: [[1, 1, 1, 1, 1, 1], new Float64()],
    });
    const result = await applyTransforms(
      [data],
      [
        {
          type: 'clean',
          config: {
            remove_duplicates: true,
            duplicate_columns: ['resource_id'],
            missing_values: { strategy: 'fill', fill_values: { compliance_status: 'unknown', cost: 0.0 } },
            remove_outliers: true,
            outlier_columns: ['cost', 'cpu_utilization'],
          },
        },
        {
          type: 'normalize',
          config: { min_max_columns: ['cost', 'utilization'], zscore_columns: ['response_time'], unit_scale_columns: ['storage_size'] },
        },
        {
          type: 'aggregate',
          config: {
            group_by: ['resource_group', 'region'],
            aggregations: { cost: ['sum', 'mean', 'max'], utilization: ['mean', 'std'], resource_count: ['count'] },
          },
        },
      ],
    );
    expect(result.stats.map((s) => [s.type, s.rows_in, s.rows_out])).toEqual([
      ['clean', 6, 5],
      ['normalize', 5, 5],
      ['aggregate', 5, 2],
    ]);
    const rows = rowsOf(result.batches[0]);
    expect(rows.map((r) => [r.resource_group, r.region, r.cost_max, r.resource_count_count])).toEqual([
      ['rg-a', 'eastus', 0.2, 2n],
      ['rg-b', 'westus', 1, 3n],
    ]);
    expect(Object.keys(rows[0])).toEqual([
      'resource_group',
      'region',
      'cost_sum',
      'cost_mean',
      'cost_max',
      'utilization_mean',
      'utilization_std',
      'resource_count_count',
    ]);
  });
});
