import { Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { KEY_META } from '../connectors/postgresql/text-batch.js';
import { OP_COLUMN } from '../connectors/postgresql/changelog-fold.js';
import { recordBatchOf } from '../transforms/arrow-ops.js';
import { keyValues } from './row-hash.js';

/** Delete events (`__op` = d) for keys known only by their text values (key strings of the state). */
export function deleteBatch(key: string[], keys: string[]): RecordBatch {
  const values = keys.map(keyValues);
  const fields = [...key.map((k) => new Field(k, new Utf8(), true)), new Field(OP_COLUMN, new Utf8(), false)];
  const columns = [...key.map((_, c) => vectorFromArray(values.map((v) => v[c]), new Utf8())), vectorFromArray(keys.map(() => 'd'), new Utf8())];
  return recordBatchOf(new Schema(fields, new Map([[KEY_META, JSON.stringify(key)]])), columns, keys.length);
}
