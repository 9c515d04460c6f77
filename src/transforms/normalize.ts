import { Type, type Static } from '@sinclair/typebox';
import type { RecordBatch } from 'apache-arrow';
import { SluiceError } from '../core/errors.js';
import { registry } from '../core/registry.js';
import { withColumns } from './arrow-ops.js';
import { ColumnStats } from './clean/column-stats.js';
import { holdAll } from './columns/hold-all.js';
import { float64Vector, readNumbers } from './columns/numbers.js';

const Columns = (description: string) => Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description }));

export const NormalizeConfig = Type.Object(
  {
    min_max_columns: Columns('Scaled to [0, 1]: (x − min) / (max − min).'),
    zscore_columns: Columns('Standardized: (x − mean) / std (sample standard deviation).'),
    unit_scale_columns: Columns('Scaled into [−1, 1]: x / max(|x|).'),
  },
  { additionalProperties: false },
);
export type NormalizeConfig = Static<typeof NormalizeConfig>;

type Scale = { name: string; offset: number; divisor: number };

/**
 * `normalize`: min-max, z-score and unit scaling of numeric columns, written back as Float64
 * (nulls stay null, NaN becomes null). A constant column (zero range or deviation) becomes 0.
 *
 * The statistics are those of the whole input: batches are held (answered with empty batches
 * carrying `retainedFrom`) and emitted scaled on completion. On an unbounded input there is no
 * whole input: the config is refused (scale per window with `aggregate`, or
 * with fixed bounds in a `map` expression instead).
 *
 * @example
 * { type: 'normalize', config: { min_max_columns: ['cost', 'utilization'], zscore_columns: ['response_time'], unit_scale_columns: ['storage_size'] } }
 */
export const normalizeTransform = registry.transform({
  type: 'normalize',
  description: 'Min-max, z-score and unit scaling of numeric columns over the whole input.',
  configSchema: NormalizeConfig,
  holdsRows: () => true,
  validate: (_config, input) =>
    input.unbounded
      ? [{ path: '', message: 'normalize needs the whole input (global min, max, mean, std), which an unbounded input never completes' }]
      : [],
  create(config) {
    return holdAll((batches) => {
      if (batches.length === 0) return batches;
      const scales: Scale[] = [];
      const statsOf = (name: string): ColumnStats => {
        const stats = new ColumnStats(false);
        for (const data of batches) {
          const vector = data.getChild(name);
          if (!vector)
            throw new SluiceError(
              'SLUICE_TRANSFORM_FAILED',
              `normalize: no column '${name}' (columns: ${data.schema.fields.map((f) => f.name).join(', ')})`,
            );
          stats.add(vector, false);
        }
        return stats;
      };
      for (const name of config.min_max_columns ?? []) {
        const stats = statsOf(name);
        scales.push({ name, offset: stats.count > 0 ? stats.min : 0, divisor: stats.count > 0 ? stats.max - stats.min : 0 });
      }
      for (const name of config.zscore_columns ?? []) {
        const stats = statsOf(name);
        scales.push({ name, offset: stats.mean() ?? 0, divisor: stats.std() ?? 0 });
      }
      for (const name of config.unit_scale_columns ?? []) {
        const stats = statsOf(name);
        scales.push({ name, offset: 0, divisor: stats.count > 0 ? Math.max(Math.abs(stats.min), Math.abs(stats.max)) : 0 });
      }
      return batches.map((data) => scaleBatch(data, scales));
    });
  },
});

function scaleBatch(data: RecordBatch, scales: Scale[]): RecordBatch {
  return withColumns(
    data,
    scales.map(({ name, offset, divisor }) => {
      const { values, valid } = readNumbers(data.getChild(name)!, `normalize column '${name}'`);
      const out = new Float64Array(values.length);
      if (divisor !== 0 && Number.isFinite(divisor)) for (let i = 0; i < values.length; i++) out[i] = (values[i] - offset) / divisor;
      return { name, vector: float64Vector(out, valid) };
    }),
  );
}
