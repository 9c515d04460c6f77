import type { RecordBatch } from 'apache-arrow';
import { jsonRows } from './encode-ndjson.js';

/** A JSON array of row objects, one per line. */
export function encodeJsonArray(batch: RecordBatch): string {
  const rows = jsonRows(batch);
  return rows.length === 0 ? '[]\n' : `[\n${rows.join(',\n')}\n]\n`;
}
