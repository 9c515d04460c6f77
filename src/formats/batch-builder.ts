import { RecordBatch, Struct, makeData, type Schema } from 'apache-arrow';
import type { ColumnBuilder } from '../connectors/kit/columns/column-builder.js';
import { makeColumnBuilder } from '../connectors/kit/columns/make-builder.js';

/** Collects rows (values in schema order) and turns them into one Arrow record batch at a time. */
export class BatchBuilder {
  private readonly columns: ColumnBuilder[];

  constructor(readonly schema: Schema) {
    this.columns = schema.fields.map((field) => makeColumnBuilder(field.type));
  }

  get length(): number {
    return this.columns[0]?.length ?? 0;
  }

  append(values: unknown[]): void {
    for (let c = 0; c < this.columns.length; c++) this.columns[c].append(values[c]);
  }

  /** The rows collected so far as a record batch (possibly 0 rows); starts a new one. */
  flush(): RecordBatch {
    const length = this.length;
    const children = this.columns.map((column) => column.finish());
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}
