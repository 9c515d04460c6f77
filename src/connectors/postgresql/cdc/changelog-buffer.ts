import { RecordBatch, Schema, Struct, makeData, type Data, type Field, type Timestamp } from 'apache-arrow';
import { TABLE_META, changelogFields, keyMetadata, opVector, type ChangeOp } from '../../../core/changelog.js';
import { columnFromText } from '../text-columns.js';
import type { TupleValues } from './pgoutput.js';

/**
 * Changes of one table waiting to be emitted, column-major as text. Unchanged TOAST values are
 * never data: the value is null and the column is named in `__unchanged` of that row. With
 * `withBefore` (REPLICA IDENTITY FULL) the batch has a `__before` struct column: the old row of
 * updates and deletes, null for inserts and snapshot rows.
 */
export class ChangelogBuffer {
  readonly schema: Schema;
  private columns: (string | null)[][];
  private ops: ChangeOp[] = [];
  private times: bigint[] = [];
  private unchanged: (string | null)[] = [];
  private before: (string | null)[][];
  private hasBefore: boolean[] = [];

  constructor(
    readonly table: string,
    readonly fields: Field[],
    readonly key: string[],
    readonly withBefore = false,
  ) {
    this.schema = new Schema([...fields, ...changelogFields(fields, { withBefore })], keyMetadata(key, new Map([[TABLE_META, table]])));
    this.columns = fields.map(() => []);
    this.before = fields.map(() => []);
  }

  get size(): number {
    return this.ops.length;
  }

  /** Adds a change; `values` (and the old row `before`, if any) in the column order of the relation. */
  push(op: ChangeOp, values: TupleValues, time: bigint, before?: TupleValues): void {
    let unknown: string[] | undefined;
    for (let c = 0; c < this.columns.length; c++) {
      const v = values[c];
      if (v === undefined) {
        (unknown ??= []).push(this.fields[c].name);
        this.columns[c].push(null);
      } else this.columns[c].push(v);
    }
    this.ops.push(op);
    this.times.push(time);
    this.unchanged.push(unknown ? `{${unknown.map((n) => `"${n.replace(/[\\"]/g, '\\$&')}"`).join(',')}}` : null);
    if (!this.withBefore) return;
    for (let c = 0; c < this.before.length; c++) this.before[c].push(before?.[c] ?? null);
    this.hasBefore.push(before !== undefined);
  }

  /** A batch of snapshot rows (`r`) straight from text columns, without buffering them. */
  snapshotBatch(columns: (string | null)[][], time: bigint): RecordBatch {
    this.columns = columns;
    const length = columns[0]?.length ?? 0;
    this.ops = new Array<ChangeOp>(length).fill('r');
    this.times = new Array<bigint>(length).fill(time);
    this.unchanged = new Array<string | null>(length).fill(null);
    if (this.withBefore) {
      this.before = this.fields.map(() => new Array<string | null>(length).fill(null));
      this.hasBefore = new Array<boolean>(length).fill(false);
    }
    return this.drain();
  }

  /** The buffered changes as one record batch; the buffer is left empty. */
  drain(): RecordBatch {
    const length = this.ops.length;
    const children = [
      ...this.fields.map((f, i) => columnFromText(f.type, this.columns[i])),
      opVector(this.ops).data[0],
      makeData({
        type: this.schema.fields[this.fields.length + 1].type as Timestamp,
        length,
        nullCount: 0,
        data: BigInt64Array.from(this.times),
      }),
      columnFromText(this.schema.fields[this.fields.length + 2].type, this.unchanged),
      ...(this.withBefore ? [this.beforeColumn()] : []),
    ];
    this.columns = this.fields.map(() => []);
    this.ops = [];
    this.times = [];
    this.unchanged = [];
    this.before = this.fields.map(() => []);
    this.hasBefore = [];
    return new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children }));
  }

  private beforeColumn(): Data {
    const type = this.schema.fields[this.fields.length + 3].type as Struct;
    const length = this.hasBefore.length;
    const nullBitmap = new Uint8Array((length + 7) >> 3);
    let nullCount = 0;
    for (let i = 0; i < length; i++) {
      if (this.hasBefore[i]) nullBitmap[i >> 3] |= 1 << (i & 7);
      else nullCount++;
    }
    const children = type.children.map((f, i) => columnFromText(f.type, this.before[i]));
    return makeData({ type, length, nullCount, nullBitmap, children });
  }
}
