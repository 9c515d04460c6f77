import type { RecordBatch, Vector } from 'apache-arrow';
import { GroupAggregates, type AggSpec } from '../columns/group-aggregates.js';
import { KeyIndex } from '../columns/key-index.js';
import { batchOfColumns, timestampVector } from './window-output.js';

export interface AggregateRows {
  /** Window bounds (epoch ms) per row, for windowed aggregates. */
  window?: { start: ArrayLike<number>; end: ArrayLike<number> };
  groupBy: string[];
  /** One vector per group column. */
  keys: Vector[];
  aggregates: { name: string; vector: Vector }[];
}

/** An aggregate's output: `window_start` and `window_end` when windowed, the group columns, then the aggregates. */
export function aggregateOutput(rows: AggregateRows, numRows: number): RecordBatch {
  const window = rows.window
    ? [
        { name: 'window_start', vector: timestampVector(rows.window.start) },
        { name: 'window_end', vector: timestampVector(rows.window.end) },
      ]
    : [];
  return batchOfColumns([...window, ...rows.groupBy.map((name, i) => ({ name, vector: rows.keys[i] })), ...rows.aggregates], numRows);
}

/**
 * The zero-row output of an aggregate over `sample`'s columns: its empty answers carry it, so the
 * operators downstream see the output schema (a filter on `cost_sum`) from the first batch on.
 */
export function emptyOutput(sample: RecordBatch, groupBy: string[], specs: AggSpec[], windowed: boolean): RecordBatch {
  const none = sample.slice(0, 0);
  const keys = new KeyIndex(groupBy.length);
  keys.ids(
    groupBy.map((name) => none.getChild(name)!),
    0,
  );
  const aggregates = new GroupAggregates(specs);
  aggregates.add(none, new Int32Array(0), 0);
  const window = windowed ? { start: [], end: [] } : undefined;
  return aggregateOutput({ window, groupBy, keys: keys.keyVectors(), aggregates: aggregates.results(0) }, 0);
}
