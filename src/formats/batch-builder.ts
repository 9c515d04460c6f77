import { RecordBatch, Struct, makeData, vectorFromArray, type Schema } from 'apache-arrow';

/** Collects rows (values in schema order) and turns them into one Arrow record batch at a time. */
export class BatchBuilder {
  private columns: unknown[][];

  constructor(readonly schema: Schema) {
    this.columns = schema.fields.map(() => []);
  }

  get length(): number {
    return this.columns[0]?.length ?? 0;
  }

  append(values: unknown[]): void {
    for (let c = 0; c < this.columns.length; c++) this.columns[c].push(values[c] ?? null);
  }

  /** The rows collected so far as a record batch (possibly 0 rows); starts a new one. */
  flush(): RecordBatch {
    const length = this.length;
    const children = this.schema.fields.map((field, c) => vectorFromArray(this.columns[c], field.type).data[0]);
    this.columns = this.schema.fields.map(() => []);
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}
