import { RecordBatch, Schema, Table, makeData, Struct, tableFromArrays, tableFromJSON, vectorFromArray, type TypeMap } from 'apache-arrow';
import type { DeadLetter } from './dead-letter.js';

/** An opaque, JSON-serializable token saying where a partition has been read up to. */
export type Position = string | number | boolean | null | Position[] | { [key: string]: Position };

export type BatchKind = 'records' | 'changelog';

export interface BatchMeta {
  stream: string;
  partition: string;
  /** Where the source partition will be after this batch; undefined if it cannot resume. */
  position: Position | undefined;
  kind: BatchKind;
  /**
   * Sequence number the runtime gives each batch a source emits; transforms copy it to their
   * output so the runtime knows how far every path has progressed.
   */
  seq?: number;
  /**
   * Set by a transform that keeps rows of earlier batches in state (windows, full aggregates):
   * the lowest seq whose rows are held and not yet emitted. The checkpoint never passes it.
   * It combines with what upstream holds, never replaces it (see `Retention`).
   */
  retainedFrom?: number;
  /**
   * How much of the partition has been read after this batch, in the source's own unit (bytes of
   * a file, rows of a table), when the source knows the total: drives progress bars.
   */
  progress?: { done: number; total: number };
  /** Records of this batch that could not be processed, written to the dead-letter destination. */
  deadLetters?: DeadLetter[];
}

export interface Batch {
  data: RecordBatch;
  meta: BatchMeta;
}

export function rowCount(batch: Batch): number {
  return batch.data.numRows;
}

/** A new batch with other data and the same meta (never mutates the input). */
export function withData(batch: Batch, data: RecordBatch, extra: Partial<BatchMeta> = {}): Batch {
  return { data, meta: { ...batch.meta, ...extra } };
}

/** Arrow record batch from column arrays or typed vectors (one record batch, chunks concatenated). */
export function recordBatchFromTable<T extends TypeMap>(table: Table<T>): RecordBatch<T> {
  if (table.batches.length === 1) return table.batches[0];
  if (table.batches.length === 0) return new RecordBatch(table.schema, undefined);
  // Rare path (a builder produced several chunks): rebuild each column as one chunk.
  const children = table.schema.fields.map((field, i) => vectorFromArray([...table.getChildAt(i)!], field.type).data[0]);
  const data = makeData({ type: new Struct(table.schema.fields), length: table.numRows, nullCount: 0, children });
  return new RecordBatch(table.schema, data) as RecordBatch<T>;
}

/** Record batch from row objects: for tests, small inputs and sources whose client gives rows. */
export function recordBatchFromRows(rows: Record<string, unknown>[], schema?: Schema): RecordBatch {
  if (rows.length === 0) return new RecordBatch(schema ?? new Schema([]), undefined);
  return recordBatchFromTable(tableFromJSON(rows as Record<string, never>[]) as Table);
}

export function recordBatchFromColumns(columns: Record<string, unknown[] | ArrayLike<unknown>>): RecordBatch {
  return recordBatchFromTable(tableFromArrays(columns as never) as unknown as Table);
}

/** Row objects of a batch: for sinks whose client takes rows, and for tests. */
export function rowsOf(data: RecordBatch): Record<string, unknown>[] {
  const fields = data.schema.fields.map((f) => f.name);
  const columns = fields.map((_, i) => data.getChildAt(i));
  const rows: Record<string, unknown>[] = new Array(data.numRows);
  for (let r = 0; r < data.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < fields.length; c++) row[fields[c]] = columns[c]?.get(r) ?? null;
    rows[r] = row;
  }
  return rows;
}
