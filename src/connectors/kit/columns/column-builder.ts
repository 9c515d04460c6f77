import { makeData, type Data, type DataType } from 'apache-arrow';

/**
 * Builds one Arrow column by appending JS values. The base class owns the validity bitmap and
 * the row count; each subclass writes its own value buffers. `null` and `undefined` are nulls.
 */
export abstract class ColumnBuilder<T extends DataType = DataType> {
  private validity = new Uint8Array(8);
  private nulls = 0;
  private rows = 0;

  constructor(readonly type: T) {}

  get length(): number {
    return this.rows;
  }

  append(value: unknown): this {
    const row = this.rows++;
    if (row >> 3 >= this.validity.length) this.validity = grow(this.validity, (row >> 3) + 1);
    if (value === null || value === undefined) {
      this.nulls++;
      this.appendNull(row);
    } else {
      this.validity[row >> 3] |= 1 << (row & 7);
      this.appendValue(value, row);
    }
    return this;
  }

  /** The rows appended so far as one Arrow `Data`; the builder starts over empty. */
  finish(): Data<T> {
    const length = this.rows;
    const validity =
      this.nulls === 0 ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.validity.subarray(0, (length + 7) >> 3) };
    const data = makeData({ type: this.type, length, ...validity, ...this.flush(length) } as never) as Data<T>;
    this.validity = new Uint8Array(8);
    this.nulls = 0;
    this.rows = 0;
    return data;
  }

  /** Writes a non-null value at `row`. */
  protected abstract appendValue(value: unknown, row: number): void;
  /** Writes what a null occupies at `row` (a zero, a repeated offset). */
  protected abstract appendNull(row: number): void;
  /** The value buffers (and children) of `length` rows, handed to `makeData`; resets them. */
  protected abstract flush(length: number): Record<string, unknown>;
}

/** A copy of `array` with room for at least `needed` elements (doubling, so appends stay amortised O(1)). */
export function grow<A extends Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array>(
  array: A,
  needed: number,
): A {
  if (needed <= array.length) return array;
  const next = new (array.constructor as new (n: number) => A)(Math.max(needed, array.length * 2));
  next.set(array as never);
  return next;
}
