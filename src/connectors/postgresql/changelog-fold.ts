import type { RecordBatch, Vector } from 'apache-arrow';
import type { TextFormatter } from './pg-text.js';

/** Reserved changelog columns (see DESIGN.md), never written as data. */
export const OP_COLUMN = '__op';
export const TS_COLUMN = '__ts';
/** Names of columns whose value is unknown in this row (an unchanged TOAST value in CDC). */
export const UNCHANGED_COLUMN = '__unchanged';
/** Before-image of an update or delete (a struct of the table's columns), when the source has one. */
export const BEFORE_COLUMN = '__before';
/**
 * `__op` of a row that stands for a TRUNCATE of the whole table (its data columns are null). The
 * PostgreSQL sink empties the target; Kafka sends a Debezium `t` event (nothing without the
 * envelope); sinks that store rows as they come (file) keep it as a row with `__op` = t.
 */
export const TRUNCATE_OP = 't';
export const RESERVED_COLUMNS = new Set([OP_COLUMN, TS_COLUMN, UNCHANGED_COLUMN, BEFORE_COLUMN]);

/** The net effect of a batch on one key: delete it, or set it to a row. */
export interface FoldedChange {
  op: 'd' | 'u';
  /** Row of the batch holding the key and (for `u`) the values. */
  row: number;
  /** For `u`: per data column, the row whose value to write, or -1 when the value is unknown. */
  sources?: Int32Array;
}

/**
 * Folds a batch to one change per key, in order: the last change of a key wins, a later update
 * with unknown (unchanged TOAST) columns borrows them from an earlier row of the same key.
 * A records batch (no `__op`) folds as upserts.
 */
export function foldChanges(data: RecordBatch, columns: string[], keyFormatters: TextFormatter[]): FoldedChange[] {
  const ops = data.getChild(OP_COLUMN) as Vector | null;
  const unchanged = data.getChild(UNCHANGED_COLUMN) as Vector | null;
  const index = new Map(columns.map((c, i) => [c, i]));
  const byKey = new Map<string, FoldedChange>();
  for (let row = 0; row < data.numRows; row++) {
    const key = keyFormatters.map((f) => f(row)).join('\u0000');
    const op = (ops?.get(row) as string | null) ?? 'c';
    if (op === 'd') {
      byKey.delete(key);
      byKey.set(key, { op: 'd', row });
      continue;
    }
    const sources = new Int32Array(columns.length).fill(row);
    const unknown = unchanged?.get(row) as Vector | null | undefined;
    if (unknown && unknown.length > 0) {
      const previous = byKey.get(key);
      for (const name of unknown.toArray() as string[]) {
        const c = index.get(name);
        if (c !== undefined) sources[c] = previous?.op === 'u' ? previous.sources![c] : -1;
      }
    }
    byKey.delete(key);
    byKey.set(key, { op: 'u', row, sources });
  }
  return [...byKey.values()];
}
