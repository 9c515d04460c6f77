import { DataType } from 'apache-arrow';

/** Types `detectType` infers from raw text values. */
export type DetectedType = 'null' | 'bool' | 'int' | 'float' | 'date' | 'timestamp' | 'json' | 'string';

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$/i;
const BOOL = /^(true|false|yes|no|t|f|y|n)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** The narrowest type one text value fits ('' is missing: null). */
export function detectValueType(text: string): DetectedType {
  const value = text.trim();
  if (value === '') return 'null';
  if (INT.test(value)) return 'int';
  if (FLOAT.test(value)) return 'float';
  if (BOOL.test(value)) return 'bool';
  if (DATE.test(value) && !Number.isNaN(Date.parse(value))) return 'date';
  if (TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')))) return 'timestamp';
  if ((value.startsWith('{') && value.endsWith('}')) || (value.startsWith('[') && value.endsWith(']'))) {
    try {
      JSON.parse(value);
      return 'json';
    } catch {
      return 'string';
    }
  }
  return 'string';
}

/** The narrowest type two values' types both fit (int widens to float, date to timestamp). */
export function widenType(a: DetectedType, b: DetectedType): DetectedType {
  if (a === b || b === 'null') return a;
  if (a === 'null') return b;
  const pair = new Set([a, b]);
  if (pair.has('int') && pair.has('float')) return 'float';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  return 'string';
}

/**
 * Infers the type of a column of raw strings (CSV cells, JSON text): every non-empty value must
 * fit; ints widen to float, dates to timestamps, anything mixed to string. All empty: `null`.
 *
 * @example detectType(['1', '2.5', '']) // 'float'
 */
export function detectType(values: Iterable<string | null | undefined>): DetectedType {
  let type: DetectedType = 'null';
  for (const value of values) {
    if (value === null || value === undefined) continue;
    type = widenType(type, detectValueType(value));
    if (type === 'string') break;
  }
  return type;
}

/** The detected type a typed Arrow column holds; undefined for text, which is checked by value. */
export function arrowDetectedType(type: DataType): DetectedType | undefined {
  if (DataType.isDictionary(type)) return arrowDetectedType(type.dictionary);
  if (DataType.isInt(type)) return 'int';
  if (DataType.isFloat(type) || DataType.isDecimal(type)) return 'float';
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isDate(type)) return 'date';
  if (DataType.isTimestamp(type)) return 'timestamp';
  if (DataType.isNull(type)) return 'null';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return undefined;
  return 'json';
}
