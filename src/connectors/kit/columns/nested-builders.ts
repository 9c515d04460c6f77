import type { List, Struct } from 'apache-arrow';
import { ColumnBuilder, grow } from './column-builder.js';

/** Lists: each value is an iterable (an array) whose items go to the child builder; offsets delimit the rows. */
export class ListBuilder extends ColumnBuilder<List> {
  private offsets = new Int32Array(16);

  constructor(
    type: List,
    readonly child: ColumnBuilder,
  ) {
    super(type);
  }

  protected appendValue(value: unknown, row: number): void {
    for (const item of value as Iterable<unknown>) this.child.append(item);
    this.appendNull(row);
  }

  protected appendNull(row: number): void {
    if (row + 2 > this.offsets.length) this.offsets = grow(this.offsets, row + 2);
    this.offsets[row + 1] = this.child.length;
  }

  protected flush(length: number): Record<string, unknown> {
    const valueOffsets = this.offsets.subarray(0, length + 1);
    this.offsets = new Int32Array(16);
    return { valueOffsets, child: this.child.finish() };
  }
}

/** Structs: each value is an object whose properties go to the child builder of the same name (missing ones are null). */
export class StructBuilder extends ColumnBuilder<Struct> {
  private readonly names: string[];

  constructor(
    type: Struct,
    readonly children: ColumnBuilder[],
  ) {
    super(type);
    this.names = type.children.map((f) => f.name);
  }

  protected appendValue(value: unknown): void {
    const object = value as Record<string, unknown>;
    for (let c = 0; c < this.children.length; c++) this.children[c].append(object[this.names[c]]);
  }

  /** Every child gets a row too, so the children stay as long as the struct. */
  protected appendNull(): void {
    for (const child of this.children) child.append(null);
  }

  protected flush(): Record<string, unknown> {
    return { children: this.children.map((c) => c.finish()) };
  }
}
