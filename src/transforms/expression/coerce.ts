import type { Col, Kind } from './columns.js';

/** Validity of a row computed from several inputs: valid only where every input is. */
export function mergeValid(n: number, ...valids: (Uint8Array | null)[]): Uint8Array | null {
  const present = valids.filter((v): v is Uint8Array => v !== null);
  if (present.length === 0) return null;
  if (present.length === 1) return present[0].slice();
  const out = present[0].slice();
  for (let k = 1; k < present.length; k++) {
    const v = present[k];
    for (let i = 0; i < n; i++) out[i] &= v[i];
  }
  return out;
}

/** A column holding the same value in every row (`null` makes every row null). */
export function constantColumn(kind: Kind, value: unknown, n: number): Col {
  const valid = value === null ? new Uint8Array(n) : null;
  switch (kind) {
    case 'float':
    case 'int':
    case 'timestamp':
      return { kind, values: new Float64Array(n).fill(value === null ? 0 : Number(value)), valid };
    case 'bigint':
      return { kind, values: new BigInt64Array(n).fill(value === null ? 0n : BigInt(value as bigint | number)), valid };
    case 'string':
      return { kind, values: new Array<string>(n).fill(value === null ? '' : String(value)), valid };
    case 'bool':
      return { kind, values: new Uint8Array(n).fill(value ? 1 : 0), valid };
    case 'null':
      return { kind, values: null, valid: new Uint8Array(n) };
    case 'other':
      return { kind, values: new Array<unknown>(n).fill(value), valid };
  }
}

/** The kind two operands are compared or combined as, or undefined when they do not mix. */
export function commonKind(a: Kind, b: Kind): Kind | undefined {
  if (a === b) return a;
  if (a === 'null') return b;
  if (b === 'null') return a;
  const pair = new Set([a, b]);
  if (pair.has('int') && pair.has('float')) return 'float';
  if (pair.has('int') && pair.has('bigint')) return 'bigint';
  if (pair.has('float') && pair.has('bigint')) return 'float';
  // Strings meet timestamps as ISO dates: `ts >= '2024-01-01'`.
  if (pair.has('timestamp') && pair.has('string')) return 'timestamp';
  return undefined;
}

const NAIVE_DATE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Epoch milliseconds of an ISO-like date text, NaN when it is not one. Zone-less times are UTC. */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  if (NAIVE_DATE_TIME.test(trimmed)) return Date.parse(`${trimmed.replace(' ', 'T')}Z`);
  return /^\d{4}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : NaN;
}

/** Converts a column to another kind (only the conversions `commonKind` allows). */
export function coerce(col: Col, to: Kind, n: number): Col {
  if (col.kind === to) return col;
  if (col.kind === 'null') return constantColumn(to, null, n);
  if (col.kind === 'int' && (to === 'float' || to === 'timestamp')) return { kind: to, values: col.values, valid: col.valid };
  if (col.kind === 'int' && to === 'bigint') {
    const values = new BigInt64Array(n);
    for (let i = 0; i < n; i++) values[i] = Number.isInteger(col.values[i]) ? BigInt(col.values[i]) : 0n;
    return { kind: 'bigint', values, valid: col.valid };
  }
  if (col.kind === 'bigint' && (to === 'float' || to === 'timestamp')) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = Number(col.values[i]);
    return { kind: to, values, valid: col.valid };
  }
  if (col.kind === 'string' && to === 'timestamp') {
    const values = new Float64Array(n);
    const valid = col.valid ? col.valid.slice() : new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      values[i] = parseTimestamp(col.values[i]);
      if (Number.isNaN(values[i])) valid[i] = 0;
    }
    return { kind: 'timestamp', values, valid };
  }
  throw new Error(`cannot convert ${col.kind} to ${to}`);
}

/** Text form of a value of a kind, as `concat` and string casts write it. */
export function formatValue(kind: Kind, value: unknown): string {
  if (kind === 'bool') return value ? 'true' : 'false';
  if (kind === 'timestamp') return Number.isFinite(value) ? new Date(value as number).toISOString() : String(value);
  return String(value);
}
