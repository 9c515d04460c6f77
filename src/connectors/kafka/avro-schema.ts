import { DataType, TimeUnit, type Field } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import { jsonText } from '../kit/json-text.js';

/** An Avro schema as JSON (what a schema registry stores). */
export type AvroSchema = Record<string, unknown>;

/** Turns one Arrow value (as `Vector.get` returns it) into the value Avro encodes. */
type Convert = (value: unknown) => unknown;

export interface AvroRecordType {
  schema: AvroSchema;
  /** A row object keyed by Arrow column name → the Avro record value. */
  convert(row: Record<string, unknown>): Record<string, unknown>;
}

const DAY_MS = 86_400_000;

/**
 * An Avro record schema for Arrow fields. Nullable columns become `["null", T]` unions with a null
 * default, so adding a nullable column is a backward-compatible change. Timestamps are
 * `long`/`timestamp-millis` (`timestamp-micros` for finer units), dates `int`/`date`; decimals are strings (exact, no scale to agree on);
 * nested and other types are JSON text. Column names that are not Avro names are rejected.
 */
export function avroRecordOf(fields: Field[], name: string, namespace: string): AvroRecordType {
  const converts: Array<[string, Convert]> = [];
  const avroFields = fields.map((field) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field.name)) {
      throw new SluiceError('SLUICE_SINK_FAILED', `column "${field.name}" is not a valid Avro field name`, { retriable: false });
    }
    const [type, convert] = avroTypeOf(field.type);
    converts.push([field.name, convert]);
    return field.nullable ? { name: field.name, type: ['null', type], default: null } : { name: field.name, type };
  });
  return {
    schema: { type: 'record', name, namespace, fields: avroFields },
    convert(row) {
      const out: Record<string, unknown> = {};
      for (const [column, convert] of converts) {
        const value = row[column];
        out[column] = value === null || value === undefined ? null : convert(value);
      }
      return out;
    },
  };
}

function avroTypeOf(type: DataType): [unknown, Convert] {
  if (DataType.isDictionary(type)) return avroTypeOf(type.dictionary);
  if (DataType.isBool(type)) return ['boolean', (v) => Boolean(v)];
  if (DataType.isInt(type)) {
    if (type.bitWidth < 32 || (type.bitWidth === 32 && type.isSigned)) return ['int', (v) => Number(v)];
    // 64-bit values stay bigints beyond 2^53; the serializer's long type encodes them exactly.
    return ['long', (v) => (typeof v === 'bigint' && !Number.isSafeInteger(Number(v)) ? v : Number(v))];
  }
  if (DataType.isFloat(type)) return [type.precision === 1 ? 'float' : 'double', (v) => Number(v)];
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return ['string', (v) => String(v)];
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) {
    return ['bytes', (v) => Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength)];
  }
  // Arrow gives timestamps and dates as epoch milliseconds whatever their unit.
  if (DataType.isTimestamp(type)) {
    // Sub-millisecond units keep their microseconds (Arrow gives fractional milliseconds).
    if (type.unit === TimeUnit.MICROSECOND || type.unit === TimeUnit.NANOSECOND) {
      return [{ type: 'long', logicalType: 'timestamp-micros' }, (v) => Math.round(Number(v instanceof Date ? v.getTime() : v) * 1000)];
    }
    return [{ type: 'long', logicalType: 'timestamp-millis' }, (v) => Math.floor(Number(v instanceof Date ? v.getTime() : v))];
  }
  if (DataType.isDate(type))
    return [{ type: 'int', logicalType: 'date' }, (v) => Math.floor(Number(v instanceof Date ? v.getTime() : v) / DAY_MS)];
  if (DataType.isDecimal(type)) {
    const scale = type.scale;
    return [{ type: 'string', 'sluice.type': `decimal(${type.precision},${scale})` }, (v) => decimalText(String(v), scale)];
  }
  return ['string', (v) => (typeof v === 'string' ? v : jsonText(v))];
}

/** Arrow gives a decimal as its unscaled integer: `12345` with scale 2 is `123.45`. */
export function decimalText(unscaled: string, scale: number): string {
  if (scale <= 0) return scale === 0 ? unscaled : `${unscaled}${'0'.repeat(-scale)}`;
  const negative = unscaled.startsWith('-');
  const digits = (negative ? unscaled.slice(1) : unscaled).padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
