import { DateUnit, TimeUnit, type Bool, type DateDay, type Float, type Int, type Null, type Timestamp } from 'apache-arrow';
import { ColumnBuilder, grow } from './column-builder.js';

type FixedWidthArray = Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** One value per row in a typed array; a null row keeps its zero. */
abstract class FixedWidthBuilder<T extends Int | Float | Timestamp | DateDay, A extends FixedWidthArray> extends ColumnBuilder<T> {
  private values: A;

  constructor(
    type: T,
    private readonly allocate: (n: number) => A,
  ) {
    super(type);
    this.values = allocate(16);
  }

  /** The value as the array stores it. */
  protected abstract convert(value: unknown): number | bigint;

  protected appendValue(value: unknown, row: number): void {
    if (row >= this.values.length) this.values = grow(this.values, row + 1);
    this.values[row] = this.convert(value) as never;
  }

  protected appendNull(row: number): void {
    if (row >= this.values.length) this.values = grow(this.values, row + 1);
  }

  protected flush(length: number): Record<string, unknown> {
    const data = this.values.subarray(0, length);
    this.values = this.allocate(16);
    return { data };
  }
}

/** Float32 and Float64, from numbers (or anything `Number()` reads: bigints, decimal strings). */
export class FloatBuilder extends FixedWidthBuilder<Float, Float32Array | Float64Array> {
  constructor(type: Float) {
    super(type, (n) => (type.precision === 1 ? new Float32Array(n) : new Float64Array(n)));
  }

  protected convert(value: unknown): number {
    return Number(value);
  }
}

/** Int16 and Int32 from numbers; Int64 from bigints, decimal strings (Kafka offsets) or whole numbers. */
export class IntBuilder extends FixedWidthBuilder<Int, Int16Array | Int32Array | BigInt64Array> {
  private readonly wide: boolean;

  constructor(type: Int) {
    super(type, (n) => (type.bitWidth === 64 ? new BigInt64Array(n) : type.bitWidth === 16 ? new Int16Array(n) : new Int32Array(n)));
    this.wide = type.bitWidth === 64;
  }

  protected convert(value: unknown): number | bigint {
    return this.wide ? BigInt(value as bigint | string | number) : Number(value);
  }
}

const PER_MILLISECOND: Record<TimeUnit, number> = {
  [TimeUnit.SECOND]: 1e-3,
  [TimeUnit.MILLISECOND]: 1,
  [TimeUnit.MICROSECOND]: 1e3,
  [TimeUnit.NANOSECOND]: 1e6,
};

/**
 * Timestamps of any unit. A `Date` is converted to the unit; a bigint, whole number or decimal
 * string is already a count of the unit since the epoch (Kafka's millisecond strings, PostgreSQL's microseconds).
 */
export class TimestampBuilder extends FixedWidthBuilder<Timestamp, BigInt64Array> {
  constructor(type: Timestamp) {
    super(type, (n) => new BigInt64Array(n));
  }

  protected convert(value: unknown): bigint {
    if (value instanceof Date) return BigInt(Math.floor(value.getTime() * PER_MILLISECOND[this.type.unit]));
    return BigInt(value as bigint | string | number);
  }
}

const DAY_MS = 86_400_000;

/** Dates as days since the epoch: from a `Date` (its UTC day) or a number of days. */
export class DateDayBuilder extends FixedWidthBuilder<DateDay, Int32Array> {
  constructor(type: DateDay) {
    if (type.unit !== DateUnit.DAY) throw new TypeError('DateDayBuilder builds day dates only');
    super(type, (n) => new Int32Array(n));
  }

  protected convert(value: unknown): number {
    return value instanceof Date ? Math.floor(value.getTime() / DAY_MS) : Number(value);
  }
}

/** Booleans as bits; any truthy value is true. */
export class BoolBuilder extends ColumnBuilder<Bool> {
  private bits = new Uint8Array(8);

  protected appendValue(value: unknown, row: number): void {
    if (row >> 3 >= this.bits.length) this.bits = grow(this.bits, (row >> 3) + 1);
    if (value) this.bits[row >> 3] |= 1 << (row & 7);
  }

  protected appendNull(row: number): void {
    if (row >> 3 >= this.bits.length) this.bits = grow(this.bits, (row >> 3) + 1);
  }

  protected flush(length: number): Record<string, unknown> {
    const data = this.bits.subarray(0, (length + 7) >> 3);
    this.bits = new Uint8Array(8);
    return { data };
  }
}

/** A column of nulls only; non-null values are not representable and are refused. */
export class NullBuilder extends ColumnBuilder<Null> {
  protected appendValue(value: unknown): void {
    throw new TypeError(`a Null column holds no values (got ${typeof value})`);
  }

  protected appendNull(): void {}

  protected flush(): Record<string, unknown> {
    return {};
  }
}
