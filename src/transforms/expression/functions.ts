import type { SourcePos } from './ast.js';
import type { Bound, EvalContext } from './bound.js';
import { isNumericKind, type Col, type Kind } from './columns.js';
import { coerce, commonKind, constantColumn, formatValue, parseTimestamp } from './coerce.js';
import { expressionError } from './lexer.js';

/** A built-in function: its argument count and, per call site, its result kind and column code. */
export interface FunctionSpec {
  arity: [min: number, max: number];
  bind(args: Bound[], pos: SourcePos): { kind: Kind; apply(args: Col[], ctx: EvalContext): Col };
}

const DAY_MS = 86_400_000;

function expectArg(arg: Bound, ok: (kind: Kind) => boolean, what: string, fn: string): void {
  if (arg.kind !== 'null' && !ok(arg.kind)) expressionError(`${fn}() needs ${what}, got ${arg.kind}`, arg.pos);
}

const isString = (kind: Kind): boolean => kind === 'string';
const isTemporal = (kind: Kind): boolean => kind === 'timestamp' || kind === 'string';

/** A string function applied to each valid row. */
function stringMap(name: string, fn: (s: string) => string): FunctionSpec {
  return {
    arity: [1, 1],
    bind(args) {
      expectArg(args[0], isString, 'a string', name);
      return {
        kind: 'string',
        apply([col], ctx) {
          const a = coerce(col, 'string', ctx.n) as Col & { kind: 'string' };
          const values: string[] = new Array(ctx.n);
          for (let i = 0; i < ctx.n; i++) values[i] = !a.valid || a.valid[i] ? fn(a.values[i]) : '';
          return { kind: 'string', values, valid: a.valid };
        },
      };
    },
  };
}

/** Whether a string holds characters outside the BMP, so code points and UTF-16 units differ. */
const SURROGATE = /[\uD800-\uDFFF]/;

function codePointLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let count = 0;
  for (const _ of s) count++;
  return count;
}

/** A numeric function mapping float values; bigint and int inputs keep their kind when `integral`. */
function numberMap(name: string, fn: (x: number) => number, integral: boolean): FunctionSpec {
  return {
    arity: [1, 1],
    bind(args) {
      expectArg(args[0], isNumericKind, 'a number', name);
      const input = args[0].kind;
      const kind: Kind = input === 'bigint' ? 'bigint' : integral && input === 'int' ? 'int' : 'float';
      return {
        kind,
        apply([col], ctx) {
          const n = ctx.n;
          if (kind === 'bigint') {
            const a = col as Col & { kind: 'bigint' };
            if (name !== 'abs') return a;
            const out = new BigInt64Array(n);
            for (let i = 0; i < n; i++) out[i] = a.values[i] < 0n ? -a.values[i] : a.values[i];
            return { kind, values: out, valid: a.valid };
          }
          const a = coerce(col, 'float', n) as Col & { kind: 'float' };
          const out = new Float64Array(n);
          for (let i = 0; i < n; i++) out[i] = fn(a.values[i]);
          return { kind: kind as 'float', values: out, valid: a.valid };
        },
      };
    },
  };
}

/** SQL rounding: halves go away from zero (Math.round sends -2.5 to -2). */
function roundHalfAway(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const scale = 10 ** digits;
  return (Math.sign(x) * Math.round(Math.abs(x) * scale)) / scale;
}

/** Year, month (1-12) and day of a count of days since 1970-01-01 (proleptic Gregorian). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

type DateField = (ms: number) => number;

const DATE_FIELDS: Record<string, { kind: Kind; get: DateField }> = {
  year: { kind: 'int', get: (ms) => civilFromDays(Math.floor(ms / DAY_MS))[0] },
  quarter: { kind: 'int', get: (ms) => Math.floor((civilFromDays(Math.floor(ms / DAY_MS))[1] - 1) / 3) + 1 },
  month: { kind: 'int', get: (ms) => civilFromDays(Math.floor(ms / DAY_MS))[1] },
  day: { kind: 'int', get: (ms) => civilFromDays(Math.floor(ms / DAY_MS))[2] },
  hour: { kind: 'int', get: (ms) => Math.floor((ms - Math.floor(ms / DAY_MS) * DAY_MS) / 3_600_000) },
  minute: { kind: 'int', get: (ms) => Math.floor((ms - Math.floor(ms / 3_600_000) * 3_600_000) / 60_000) },
  second: { kind: 'int', get: (ms) => Math.floor((ms - Math.floor(ms / 60_000) * 60_000) / 1000) },
  /** Day of week, 0 = Sunday (1970-01-01 was a Thursday). */
  dow: { kind: 'int', get: (ms) => (((Math.floor(ms / DAY_MS) + 4) % 7) + 7) % 7 },
  doy: {
    kind: 'int',
    get: (ms) => {
      const days = Math.floor(ms / DAY_MS);
      return days - daysFromCivil(civilFromDays(days)[0], 1, 1) + 1;
    },
  },
  epoch: { kind: 'float', get: (ms) => ms / 1000 },
};

/** Applies a per-value date computation to a timestamp column; non-finite instants become null. */
function mapTimestamps(col: Col, n: number, kind: Kind, fn: DateField): Col {
  const ts = coerce(col, 'timestamp', n) as Col & { kind: 'timestamp' };
  const values = new Float64Array(n);
  let valid = ts.valid;
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    const ms = ts.values[i];
    if (Number.isFinite(ms)) {
      values[i] = fn(ms);
    } else {
      valid ??= new Uint8Array(n).fill(1);
      valid[i] = 0;
    }
  }
  return { kind: kind as 'float', values, valid };
}

function dateFieldFunction(field: string): FunctionSpec {
  const { kind, get } = DATE_FIELDS[field];
  return {
    arity: [1, 1],
    bind(args) {
      expectArg(args[0], isTemporal, 'a timestamp', field);
      checkDateLiteral(args[0]);
      return { kind, apply: ([col], ctx) => mapTimestamps(col, ctx.n, kind, get) };
    },
  };
}

function checkDateLiteral(arg: Bound): void {
  if (arg.literal && typeof arg.literal.value === 'string' && Number.isNaN(parseTimestamp(arg.literal.value))) {
    expressionError(`'${arg.literal.value}' is not a date or timestamp`, arg.pos);
  }
}

/** A literal string argument (date_trunc unit, extract field), lower-cased and checked. */
function literalChoice(arg: Bound, choices: readonly string[], what: string): string {
  const value = arg.literal?.value;
  if (typeof value !== 'string' || !choices.includes(value.toLowerCase())) {
    expressionError(`${what} must be one of ${choices.map((c) => `'${c}'`).join(', ')}`, arg.pos);
  }
  return value.toLowerCase();
}

const TRUNC_UNITS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;

function truncate(unit: string, ms: number): number {
  switch (unit) {
    case 'second':
      return Math.floor(ms / 1000) * 1000;
    case 'minute':
      return Math.floor(ms / 60_000) * 60_000;
    case 'hour':
      return Math.floor(ms / 3_600_000) * 3_600_000;
    case 'day':
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case 'week': {
      // ISO weeks start on Monday.
      const days = Math.floor(ms / DAY_MS);
      return (days - ((((days + 3) % 7) + 7) % 7)) * DAY_MS;
    }
    default: {
      const [year, month] = civilFromDays(Math.floor(ms / DAY_MS));
      const first = unit === 'year' ? 1 : unit === 'quarter' ? month - ((month - 1) % 3) : month;
      return daysFromCivil(year, first, 1) * DAY_MS;
    }
  }
}

/** Every built-in function, by lower-case name. */
export const FUNCTIONS = new Map<string, FunctionSpec>([
  ['lower', stringMap('lower', (s) => s.toLowerCase())],
  ['upper', stringMap('upper', (s) => s.toUpperCase())],
  ['trim', stringMap('trim', (s) => s.trim())],
  [
    'length',
    {
      arity: [1, 1],
      bind(args) {
        expectArg(args[0], isString, 'a string', 'length');
        return {
          kind: 'int',
          apply([col], ctx) {
            const a = coerce(col, 'string', ctx.n) as Col & { kind: 'string' };
            const values = new Float64Array(ctx.n);
            for (let i = 0; i < ctx.n; i++) if (!a.valid || a.valid[i]) values[i] = codePointLength(a.values[i]);
            return { kind: 'int', values, valid: a.valid };
          },
        };
      },
    },
  ],
  [
    'substr',
    {
      arity: [2, 3],
      bind(args) {
        expectArg(args[0], isString, 'a string', 'substr');
        for (const arg of args.slice(1)) expectArg(arg, isNumericKind, 'a number', 'substr');
        return {
          kind: 'string',
          apply(cols, ctx) {
            const n = ctx.n;
            const s = coerce(cols[0], 'string', n) as Col & { kind: 'string' };
            const start = coerce(cols[1], 'float', n) as Col & { kind: 'float' };
            const len = cols[2] ? (coerce(cols[2], 'float', n) as Col & { kind: 'float' }) : undefined;
            const valid = new Uint8Array(n);
            const values: string[] = new Array(n).fill('');
            for (let i = 0; i < n; i++) {
              if ((s.valid && !s.valid[i]) || (start.valid && !start.valid[i]) || (len?.valid && !len.valid[i])) continue;
              // SQL positions are 1-based and count characters; a start before 1 uses up length.
              const from = Math.trunc(start.values[i]);
              const count = len ? Math.trunc(len.values[i]) : Infinity;
              if (count < 0) continue;
              valid[i] = 1;
              const begin = Math.max(from, 1) - 1;
              const end = count === Infinity ? Infinity : Math.max(from + count - 1, 0);
              if (end <= begin) continue;
              const text = s.values[i];
              values[i] = SURROGATE.test(text) ? Array.from(text).slice(begin, end).join('') : text.slice(begin, end);
            }
            return { kind: 'string', values, valid };
          },
        };
      },
    },
  ],
  [
    'concat',
    {
      arity: [1, Infinity],
      bind(args) {
        for (const arg of args) if (arg.kind === 'other') expressionError('concat() cannot format values of this column type', arg.pos);
        return {
          kind: 'string',
          apply(cols, ctx) {
            // Nulls count as empty strings, as in PostgreSQL's concat().
            const values: string[] = new Array(ctx.n).fill('');
            for (const col of cols) {
              if (col.kind === 'null') continue;
              const source = col.values as ArrayLike<unknown>;
              for (let i = 0; i < ctx.n; i++) if (!col.valid || col.valid[i]) values[i] += formatValue(col.kind, source[i]);
            }
            return { kind: 'string', values, valid: null };
          },
        };
      },
    },
  ],
  [
    'coalesce',
    {
      arity: [1, Infinity],
      bind(args) {
        let kind: Kind = 'null';
        for (const arg of args) {
          const next = commonKind(kind, arg.kind);
          if (!next || next === 'other') expressionError(`coalesce() cannot mix ${kind} with ${arg.kind}`, arg.pos);
          kind = next;
        }
        if (kind === 'timestamp') args.forEach(checkDateLiteral);
        return {
          kind,
          apply(cols, ctx) {
            const n = ctx.n;
            const out = constantColumn(kind, null, n);
            const valid = out.valid!;
            const target = out.values as unknown as unknown[] | null;
            for (const col of cols) {
              const from = coerce(col, kind, n);
              const source = from.values as unknown as ArrayLike<unknown> | null;
              for (let i = 0; i < n; i++) {
                if (valid[i] || (from.valid && !from.valid[i])) continue;
                valid[i] = 1;
                if (target && source) target[i] = source[i];
              }
            }
            return out;
          },
        };
      },
    },
  ],
  ['abs', numberMap('abs', Math.abs, false)],
  ['floor', numberMap('floor', Math.floor, true)],
  ['ceil', numberMap('ceil', Math.ceil, true)],
  [
    'round',
    {
      arity: [1, 2],
      bind(args) {
        expectArg(args[0], isNumericKind, 'a number', 'round');
        if (args.length === 1) return numberMap('round', (x) => roundHalfAway(x, 0), true).bind(args, args[0].pos);
        expectArg(args[1], (k) => k === 'int' || k === 'bigint', 'an integer number of digits', 'round');
        return {
          kind: 'float',
          apply([col, digits], ctx) {
            const n = ctx.n;
            const x = coerce(col, 'float', n) as Col & { kind: 'float' };
            const d = coerce(digits, 'float', n) as Col & { kind: 'float' };
            const values = new Float64Array(n);
            for (let i = 0; i < n; i++) values[i] = roundHalfAway(x.values[i], d.values[i]);
            const valid =
              x.valid || d.valid ? new Uint8Array(n).map((_, i) => (x.valid ? x.valid[i] : 1) & (d.valid ? d.valid[i] : 1)) : null;
            return { kind: 'float', values, valid };
          },
        };
      },
    },
  ],
  [
    'now',
    {
      arity: [0, 0],
      bind: () => ({ kind: 'timestamp', apply: (_, ctx) => constantColumn('timestamp', ctx.now, ctx.n) }),
    },
  ],
  [
    'date_trunc',
    {
      arity: [2, 2],
      bind(args) {
        const unit = literalChoice(args[0], TRUNC_UNITS, 'the date_trunc unit');
        expectArg(args[1], isTemporal, 'a timestamp', 'date_trunc');
        checkDateLiteral(args[1]);
        return { kind: 'timestamp', apply: ([, col], ctx) => mapTimestamps(col, ctx.n, 'timestamp', (ms) => truncate(unit, ms)) };
      },
    },
  ],
  [
    'extract',
    {
      arity: [2, 2],
      bind(args) {
        const field = literalChoice(args[0], Object.keys(DATE_FIELDS), 'the extract field');
        expectArg(args[1], isTemporal, 'a timestamp', 'extract');
        checkDateLiteral(args[1]);
        const { kind, get } = DATE_FIELDS[field];
        return { kind, apply: ([, col], ctx) => mapTimestamps(col, ctx.n, kind, get) };
      },
    },
  ],
  ...(['year', 'month', 'day', 'hour', 'minute', 'second'] as const).map((field): [string, FunctionSpec] => [
    field,
    dateFieldFunction(field),
  ]),
]);
