import { RecordBatch, Schema, Struct, makeData, type Field } from 'apache-arrow';
import { columnFromText } from './text-columns.js';

/** A record batch from columns of PostgreSQL text values (one array per field, same length). */
export function textBatch(
  fields: Field[],
  columns: ReadonlyArray<ReadonlyArray<string | null>>,
  metadata?: Map<string, string>,
): RecordBatch {
  const schema = new Schema(fields, metadata);
  const length = columns[0]?.length ?? 0;
  const children = fields.map((field, i) => columnFromText(field.type, columns[i]));
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/** Transposes rows of text values (as the `pg` client returns with `rowMode: 'array'`) to columns. */
export function rowsToColumns(rows: ReadonlyArray<ReadonlyArray<string | null>>, width: number): (string | null)[][] {
  const columns: (string | null)[][] = Array.from({ length: width }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let c = 0; c < width; c++) columns[c][r] = row[c];
  }
  return columns;
}
