import type { RecordBatch } from 'apache-arrow';
import { jsonValue } from './json-rows.js';

export interface ColumnProfile {
  name: string;
  type: string;
  count: number;
  nulls: number;
  null_ratio: number;
  distinct: number;
  /** True when `distinct` stopped counting at the cap. */
  distinct_capped: boolean;
  min?: unknown;
  max?: unknown;
  mean?: number;
  std?: number;
}

const DISTINCT_CAP = 10_000;

/** Per-column statistics over batches (count, nulls, distinct up to a cap, min/max, mean/std of numbers). */
export function profileBatches(batches: RecordBatch[]): { rows: number; columns: ColumnProfile[] } {
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  const names = batches[0]?.schema.fields.map((f) => f.name) ?? [];
  const columns = names.map((name) => {
    const type = String(batches[0].schema.fields.find((f) => f.name === name)!.type);
    const distinct = new Set<unknown>();
    let nulls = 0;
    let numeric = 0;
    let sum = 0;
    let sumSquares = 0;
    let min: unknown;
    let max: unknown;
    for (const batch of batches) {
      const vector = batch.getChild(name);
      if (!vector) {
        nulls += batch.numRows;
        continue;
      }
      for (let i = 0; i < vector.length; i++) {
        const raw = vector.get(i);
        if (raw === null || raw === undefined) {
          nulls++;
          continue;
        }
        const value = jsonValue(raw);
        if (distinct.size < DISTINCT_CAP) distinct.add(typeof value === 'object' ? JSON.stringify(value) : value);
        if (typeof value === 'number') {
          numeric++;
          sum += value;
          sumSquares += value * value;
        }
        if (typeof value === 'number' || typeof value === 'string') {
          if (min === undefined || (value as number) < (min as number)) min = value;
          if (max === undefined || (value as number) > (max as number)) max = value;
        }
      }
    }
    const mean = numeric > 0 ? sum / numeric : undefined;
    const std = numeric > 1 && mean !== undefined ? Math.sqrt(Math.max(0, (sumSquares - numeric * mean * mean) / (numeric - 1))) : undefined;
    return {
      name,
      type,
      count: rows - nulls,
      nulls,
      null_ratio: rows > 0 ? nulls / rows : 0,
      distinct: distinct.size,
      distinct_capped: distinct.size >= DISTINCT_CAP,
      ...(min !== undefined ? { min, max } : {}),
      ...(mean !== undefined ? { mean } : {}),
      ...(std !== undefined ? { std } : {}),
    };
  });
  return { rows, columns };
}
