import { Type, type Static } from '@sinclair/typebox';
import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { map } from 'rxjs';
import { withData } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import { registry } from '../core/registry.js';
import { takeVector } from './arrow-ops.js';
import { batchOfColumns } from './aggregate/window-output.js';
import { float64Vector, isNumericType, readNumbers } from './columns/numbers.js';
import { castVector } from './expression/cast.js';
import { loadColumn, utf8Vector } from './expression/columns.js';

export const UnpivotConfig = Type.Object(
  {
    id_columns: Type.Array(Type.String({ minLength: 1 }), { description: 'Columns kept on every output row (pandas id_vars).' }),
    value_columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Columns turned into rows (pandas value_vars); all others by default.',
      }),
    ),
    var_name: Type.Optional(Type.String({ minLength: 1, default: 'variable' })),
    value_name: Type.Optional(Type.String({ minLength: 1, default: 'value' })),
  },
  { additionalProperties: false },
);
export type UnpivotConfig = Static<typeof UnpivotConfig>;

/**
 * `unpivot` (melt): wide to long, batch by batch (no state, so unbounded input is fine). Each
 * value column becomes a block of rows, in column order, as pandas `melt` does: the id columns
 * repeated, `variable` naming the column, `value` holding its value (Float64 when every value
 * column is numeric, otherwise text).
 *
 * @example { type: 'unpivot', config: { id_columns: ['resource_id'], value_columns: ['cpu', 'memory'], var_name: 'metric' } }
 */
export const unpivotTransform = registry.transform({
  type: 'unpivot',
  description: 'Reshapes wide data to long: one row per id and value column.',
  configSchema: UnpivotConfig,
  reshapes: true,
  create(config) {
    return map((batch) => withData(batch, melt(batch.data, config)));
  },
});

function melt(data: RecordBatch, config: UnpivotConfig): RecordBatch {
  const names = data.schema.fields.map((f) => f.name);
  for (const name of [...config.id_columns, ...(config.value_columns ?? [])]) {
    if (!names.includes(name))
      throw new SluiceError('SLUICE_TRANSFORM_FAILED', `unpivot: no column '${name}' (columns: ${names.join(', ')})`);
  }
  const valueNames = config.value_columns ?? names.filter((name) => !config.id_columns.includes(name));
  const n = data.numRows;
  const total = n * valueNames.length;
  const repeat = new Int32Array(total);
  for (let k = 0; k < valueNames.length; k++) for (let i = 0; i < n; i++) repeat[k * n + i] = i;
  const ids = config.id_columns.map((name) => ({ name, vector: takeVector(data.getChild(name)!, repeat) }));
  const variables = utf8Vector(
    Array.from({ length: total }, (_, j) => valueNames[Math.floor(j / Math.max(1, n))]),
    null,
    total,
  );
  const vectors = valueNames.map((name) => data.getChild(name)!);
  let value: Vector;
  if (vectors.every((v) => isNumericType(v.type as DataType))) {
    const out = new Float64Array(total);
    const valid = new Uint8Array(total);
    vectors.forEach((vector, k) => {
      const numbers = readNumbers(vector);
      out.set(numbers.values, k * n);
      valid.set(numbers.valid, k * n);
    });
    value = float64Vector(out, valid);
  } else {
    const out: string[] = new Array(total);
    const valid = new Uint8Array(total);
    vectors.forEach((vector, k) => {
      const text = loadColumn(castVector(vector, 'string'), 'string');
      for (let i = 0; i < n; i++) {
        out[k * n + i] = (text.values as string[])[i];
        valid[k * n + i] = text.valid ? text.valid[i] : 1;
      }
    });
    value = utf8Vector(out, valid, total);
  }
  return batchOfColumns(
    [...ids, { name: config.var_name ?? 'variable', vector: variables }, { name: config.value_name ?? 'value', vector: value }],
    total,
  );
}
