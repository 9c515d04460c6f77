import { Type, type Static } from '@sinclair/typebox';
import type { RecordBatch, Vector } from 'apache-arrow';
import { SluiceError } from '../core/errors.js';
import { registry } from '../core/registry.js';
import { batchOfColumns } from './aggregate/window-output.js';
import { GroupAggregates, type AggFunc } from './columns/group-aggregates.js';
import { holdAll } from './columns/hold-all.js';
import { KeyIndex } from './columns/key-index.js';
import { float64Vector } from './columns/numbers.js';

const PIVOT_FUNCS = ['sum', 'mean', 'min', 'max', 'count', 'std', 'median', 'count_distinct'] as const;
const Names = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]);

export const PivotConfig = Type.Object(
  {
    index: { ...Names, description: 'Column(s) whose values become the rows.' },
    columns: Type.String({ minLength: 1, description: 'Column whose distinct values become output columns.' }),
    values: { ...Names, description: 'Column(s) aggregated into the cells.' },
    aggfunc: Type.Optional(
      Type.Union(
        PIVOT_FUNCS.map((f) => Type.Literal(f)),
        { default: 'mean', description: 'As pandas pivot_table: mean by default.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PivotConfig = Static<typeof PivotConfig>;

const list = (names: string | string[]): string[] => (Array.isArray(names) ? names : [names]);

/**
 * `pivot`: one row per distinct `index`, one Float64 column per distinct value of `columns` (sorted,
 * named by the value, or `<values>_<value>` with several value columns), cells aggregated with
 * `aggfunc`; combinations without rows are null. Null pivot values get the column `null`.
 *
 * The set of output columns is only known once the whole input has been seen: batches are held
 * as running aggregates (empty answers carry `retainedFrom`) and the table is emitted on
 * completion. On an unbounded input the config is refused (pivot windowed
 * aggregates from `aggregate` in the sink instead).
 *
 * @example { type: 'pivot', config: { index: 'resource_group', columns: 'region', values: 'cost', aggfunc: 'sum' } }
 */
export const pivotTransform = registry.transform({
  type: 'pivot',
  description: 'Reshapes long data to wide: index rows by column values, aggregated cells.',
  configSchema: PivotConfig,
  reshapes: true,
  holdsRows: () => true,
  validate: (_config, input) =>
    input.unbounded
      ? [{ path: '', message: 'pivot needs the whole input to know its output columns; an unbounded input never completes' }]
      : [],
  create(config) {
    const index = list(config.index);
    const values = list(config.values);
    const func = (config.aggfunc ?? 'mean') as AggFunc;
    const rows = new KeyIndex(index.length);
    const pivots = new KeyIndex(1);
    const cells = new Map<number, number>();
    const cellRow: number[] = [];
    const cellColumn: number[] = [];
    const aggregates = new GroupAggregates(values.map((column) => ({ column, func, output: column })));

    const add = (data: RecordBatch): void => {
      const column = (name: string): Vector => {
        const vector = data.getChild(name);
        if (!vector)
          throw new SluiceError(
            'SLUICE_TRANSFORM_FAILED',
            `pivot: no column '${name}' (columns: ${data.schema.fields.map((f) => f.name).join(', ')})`,
          );
        return vector;
      };
      values.forEach(column);
      const rowIds = rows.ids(index.map(column), data.numRows);
      const pivotIds = pivots.ids([column(config.columns)], data.numRows);
      const ids = new Int32Array(data.numRows);
      for (let i = 0; i < ids.length; i++) {
        // Row ids stay below 2^26 (KeyIndex's own limit), so the pair fits a double exactly.
        const key = rowIds[i] * 2 ** 26 + pivotIds[i];
        let cell = cells.get(key);
        if (cell === undefined) {
          cell = cellRow.length;
          cells.set(key, cell);
          cellRow.push(rowIds[i]);
          cellColumn.push(pivotIds[i]);
        }
        ids[i] = cell;
      }
      aggregates.add(data, ids, cellRow.length);
    };

    return holdAll((batches) => {
      for (const data of batches) add(data);
      batches.length = 0;
      const rowCount = rows.size;
      const results = aggregates.results(cellRow.length);
      const order = Array.from({ length: pivots.size }, (_, p) => p).sort((a, b) =>
        compareKeys(pivots.keyValue(a, 0), pivots.keyValue(b, 0)),
      );
      const keyVectors = rows.keyVectors();
      const output = index.map((name, i) => ({ name, vector: keyVectors[i] }));
      for (const [v, result] of results.entries()) {
        // One pass over the cells, scattering each into its pivot column.
        const cellsOut = Array.from({ length: pivots.size }, () => new Float64Array(rowCount));
        const valid = Array.from({ length: pivots.size }, () => new Uint8Array(rowCount));
        for (let cell = 0; cell < cellRow.length; cell++) {
          const value = result.vector.get(cell) as number | bigint | null;
          if (value === null) continue;
          cellsOut[cellColumn[cell]][cellRow[cell]] = Number(value);
          valid[cellColumn[cell]][cellRow[cell]] = 1;
        }
        for (const p of order) {
          const label = String(pivots.keyValue(p, 0));
          output.push({ name: values.length > 1 ? `${values[v]}_${label}` : label, vector: float64Vector(cellsOut[p], valid[p]) });
        }
      }
      return [batchOfColumns(output, rowCount)];
    });
  },
});

/** Sorts pivot values as pandas does: numbers numerically, text by code point, null last. */
function compareKeys(a: unknown, b: unknown): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
