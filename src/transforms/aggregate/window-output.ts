import { Field, Schema, type RecordBatch, type Vector } from 'apache-arrow';
import { toVector } from '../expression/columns.js';
import { recordBatchOf } from '../arrow-ops.js';

/** Named output columns as one record batch (the types come from the vectors). */
export function batchOfColumns(columns: { name: string; vector: Vector }[], numRows: number): RecordBatch {
  const schema = new Schema(columns.map((c) => new Field(c.name, c.vector.type, true)));
  return recordBatchOf(
    schema,
    columns.map((c) => c.vector),
    numRows,
  );
}

/** A timestamp (ms, UTC) column from epoch milliseconds. */
export function timestampVector(ms: ArrayLike<number>): Vector {
  return toVector({ kind: 'timestamp', values: Float64Array.from(ms), valid: null }, ms.length);
}
