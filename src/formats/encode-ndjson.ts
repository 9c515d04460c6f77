import type { RecordBatch } from 'apache-arrow';
import { jsonCellReaders } from './values.js';

/** One JSON object string per row, in schema column order. */
export function jsonRows(batch: RecordBatch): string[] {
  const names = batch.schema.fields.map((f) => f.name);
  const readers = jsonCellReaders(batch);
  const lines = new Array<string>(batch.numRows);
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = readers[c](r);
    lines[r] = JSON.stringify(row);
  }
  return lines;
}

/** NDJSON text of a batch: one object per line, each line ending in `\n` ('' for 0 rows). */
export function encodeNdjson(batch: RecordBatch): string {
  const lines = jsonRows(batch);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
