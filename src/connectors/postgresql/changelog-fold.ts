import type { RecordBatch, Vector } from 'apache-arrow';
import { Op, UNCHANGED_COLUMN, opReader } from '../../core/changelog.js';
import type { TextFormatter } from './pg-text.js';

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
  const opOf = opReader(data);
  const unchanged = data.getChild(UNCHANGED_COLUMN) as Vector | null;
  const index = new Map(columns.map((c, i) => [c, i]));
  const byKey = new Map<string, FoldedChange>();
  for (let row = 0; row < data.numRows; row++) {
    const key = keyFormatters.map((f) => f(row)).join('\u0000');
    if (opOf(row) === Op.delete) {
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
