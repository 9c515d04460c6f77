import { Table, vectorFromArray, type DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { recordBatchFromTable } from '../../../src/core/batch.js';

/** A record batch with exactly the given Arrow types: `{ x: [[1, null], new Float64()] }`. */
export function typedBatch(columns: Record<string, [unknown[], DataType]>): RecordBatch {
  const vectors: Record<string, Vector> = {};
  for (const [name, [values, type]] of Object.entries(columns)) vectors[name] = vectorFromArray(values, type);
  return recordBatchFromTable(new Table(vectors));
}

export function valuesOf(vector: Vector): unknown[] {
  return Array.from({ length: vector.length }, (_, i) => vector.get(i));
}
