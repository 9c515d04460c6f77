import type { DataType } from 'apache-arrow';

export type DetectedType = 'integer' | 'float' | 'boolean' | 'date' | 'timestamp' | 'string' | 'object' | 'array' | 'null';

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const BOOLEAN = /^(true|false)$/i;

function typeOfValue(value: unknown): DetectedType {
  if (value === null || value === undefined || value === '') return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  const text = String(value).trim();
  if (INTEGER.test(text)) return 'integer';
  if (FLOAT.test(text)) return 'float';
  if (BOOLEAN.test(text)) return 'boolean';
  if (DATE.test(text)) return 'date';
  if (TIMESTAMP.test(text) && !Number.isNaN(Date.parse(text))) return 'timestamp';
  return 'string';
}

/** The narrowest type every non-null value fits: integer widens to float, date to timestamp, else string. */
function merge(a: DetectedType, b: DetectedType): DetectedType {
  if (a === b || b === 'null') return a;
  if (a === 'null') return b;
  const pair = new Set([a, b]);
  if (pair.has('integer') && pair.has('float')) return 'float';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  return 'string';
}

/** Detects column types of JSON rows, values given as strings included (CSV-like data). */
export function detectTypes(rows: Record<string, unknown>[]): Array<{ name: string; type: DetectedType; nullable: boolean }> {
  const types = new Map<string, DetectedType>();
  const nullable = new Set<string>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      const type = typeOfValue(value);
      if (type === 'null') nullable.add(name);
      types.set(name, merge(types.get(name) ?? 'null', type));
    }
  }
  for (const name of types.keys()) if (rows.some((r) => !(name in r))) nullable.add(name);
  return [...types].map(([name, type]) => ({ name, type, nullable: nullable.has(name) }));
}

/** The detected type an Arrow column type corresponds to. */
export function typeOfArrow(type: DataType): DetectedType {
  const name = String(type).toLowerCase();
  if (/^u?int/.test(name)) return 'integer';
  if (/^float|decimal/.test(name)) return 'float';
  if (name === 'bool') return 'boolean';
  if (name.startsWith('date')) return 'date';
  if (name.startsWith('timestamp')) return 'timestamp';
  if (name.startsWith('struct') || name.startsWith('map')) return 'object';
  if (name.startsWith('list')) return 'array';
  if (name === 'null') return 'null';
  return 'string';
}
