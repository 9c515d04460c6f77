import {
  DateUnit,
  Type,
  makeVector,
  type Binary,
  type Bool,
  type DataType,
  type DateDay,
  type Float,
  type Int,
  type List,
  type Null,
  type Struct,
  type Timestamp,
  type Utf8,
  type Vector,
} from 'apache-arrow';
import { SluiceError } from '../../../core/errors.js';
import type { ColumnBuilder } from './column-builder.js';
import { ListBuilder, StructBuilder } from './nested-builders.js';
import { BoolBuilder, DateDayBuilder, FloatBuilder, IntBuilder, NullBuilder, TimestampBuilder } from './primitive-builders.js';
import { BinaryBuilder, Utf8Builder } from './variable-width-builders.js';

/**
 * The builder for a column of `type`: the one place that dispatches on Arrow types to build
 * columns (nested types get builders for their children). Unsigned integers, decimals,
 * dictionaries and the other types no connector produces yet are refused.
 */
export function makeColumnBuilder(type: DataType): ColumnBuilder {
  switch (type.typeId) {
    case Type.Null:
      return new NullBuilder(type as Null);
    case Type.Bool:
      return new BoolBuilder(type as Bool);
    case Type.Int:
      if ((type as Int).isSigned && (type as Int).bitWidth >= 16) return new IntBuilder(type as Int);
      break;
    case Type.Float:
      if ((type as Float).precision > 0) return new FloatBuilder(type as Float);
      break;
    case Type.Utf8:
      return new Utf8Builder(type as Utf8);
    case Type.Binary:
      return new BinaryBuilder(type as Binary);
    case Type.Timestamp:
      return new TimestampBuilder(type as Timestamp);
    case Type.Date:
      if ((type as DateDay).unit === DateUnit.DAY) return new DateDayBuilder(type as DateDay);
      break;
    case Type.List:
      return new ListBuilder(type as List, makeColumnBuilder((type as List).children[0].type));
    case Type.Struct:
      return new StructBuilder(
        type as Struct,
        (type as Struct).children.map((f) => makeColumnBuilder(f.type)),
      );
  }
  throw new SluiceError('SLUICE_INTERNAL', `no column builder for Arrow type ${String(type)}`, { retriable: false });
}

/** A vector of `type` from JS values (null and undefined are nulls). */
export function vectorOf<T extends DataType>(type: T, values: Iterable<unknown>): Vector<T> {
  const builder = makeColumnBuilder(type);
  for (const value of values) builder.append(value);
  return makeVector(builder.finish()) as Vector<T>;
}
