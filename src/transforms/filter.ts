import { Type, type Static } from '@sinclair/typebox';
import { map } from 'rxjs';
import { withData } from '../core/batch.js';
import { registry } from '../core/registry.js';
import { takeRows, indicesOfMask } from './arrow-ops.js';
import { compileExpression } from './expression/index.js';
import { ExpressionString } from './expression/schema.js';

export const FilterConfig = Type.Object(
  {
    condition: ExpressionString({
      description: 'Rows where this expression is true are kept; false or null drops the row.',
      examples: ["status = 'active' and cost > 100", "region in ('eu-west', 'eu-north') and name like 'vm-%'"],
    }),
  },
  { additionalProperties: false },
);
export type FilterConfig = Static<typeof FilterConfig>;

/**
 * `filter`: keeps the rows whose condition is true (SQL semantics: null drops the row). Each batch
 * is evaluated column-wise into a mask, then every column is gathered at the kept indices. Batches
 * that lose every row are still emitted: they carry the position forward.
 *
 * @example
 * { type: 'filter', config: { condition: "severity >= 3 and resource_type = 'vm'" } }
 */
export const filterTransform = registry.transform({
  type: 'filter',
  description: 'Keeps rows where a condition expression is true.',
  configSchema: FilterConfig,
  create(config) {
    const condition = compileExpression(config.condition);
    return map((batch) => {
      const kept = indicesOfMask(condition.evaluateMask(batch.data));
      return kept.length === batch.data.numRows ? batch : withData(batch, takeRows(batch.data, kept));
    });
  },
});
