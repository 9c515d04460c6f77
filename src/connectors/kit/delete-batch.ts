import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { OP_COLUMN, Op, keyMetadata, opVector } from '../../core/changelog.js';
import { recordBatchOf } from '../../transforms/arrow-ops.js';
import { keyValues } from '../../core/row-hash.js';

/**
 * Delete events (`__op` = d) for keys known only by their text values (key strings of the state).
 * `others` adds null columns, so the batch has every column a transform downstream may rename.
 */
export function deleteBatch(key: string[], keys: string[], others: string[] = []): RecordBatch {
  const values = keys.map(keyValues);
  const nulls = vectorFromArray(new Array<string | null>(keys.length).fill(null), new Utf8());
  const fields = [
    ...key.map((k) => new Field(k, new Utf8(), true)),
    ...others.map((o) => new Field(o, new Utf8(), true)),
    new Field(OP_COLUMN, new Utf8(), false),
  ];
  const columns = [
    ...key.map((_, c) =>
      vectorFromArray(
        values.map((v) => v[c]),
        new Utf8(),
      ),
    ),
    ...others.map(() => nulls),
    opVector(keys.map(() => Op.delete)),
  ];
  return recordBatchOf(new Schema(fields, keyMetadata(key)), columns, keys.length);
}
