import type { Schema } from 'apache-arrow';
import type { BinaryOp, Expr, LiteralValue } from './ast.js';
import type { Bound, EvalContext } from './bound.js';
import { isNumericKind, kindOfType, loadColumn, type Col, type Kind } from './columns.js';
import { coerce, commonKind, constantColumn, mergeValid, parseTimestamp } from './coerce.js';
import { FUNCTIONS } from './functions.js';
import { expressionError } from './lexer.js';

/**
 * Checks an expression tree against a batch schema (column names, operand kinds) and returns a
 * tree of column-wise evaluators: each node computes a whole column from its children's columns.
 *
 * @throws SluiceError `SLUICE_EXPRESSION_INVALID` naming the unknown column or the mismatched operator.
 */
export function bindExpression(expr: Expr, schema: Schema): Bound {
  switch (expr.kind) {
    case 'literal':
      return bindLiteral(expr.value, expr.pos);
    case 'column': {
      const index = schema.fields.findIndex((field) => field.name === expr.name);
      if (index < 0) {
        const names = schema.fields.map((field) => field.name).join(', ');
        expressionError(`unknown column '${expr.name}'`, expr.pos, ` (columns: ${names || 'none'})`);
      }
      const kind = kindOfType(schema.fields[index].type);
      return {
        kind,
        pos: expr.pos,
        run: (ctx) => {
          let col = ctx.loaded.get(index);
          if (!col) {
            col = loadColumn(ctx.batch.getChildAt(index)!, kind);
            ctx.loaded.set(index, col);
          }
          return col;
        },
      };
    }
    case 'unary': {
      const operand = bindExpression(expr.operand, schema);
      if (expr.op === 'not') {
        requireKind(operand, 'bool', "'not'");
        return {
          kind: operand.kind === 'null' ? 'bool' : operand.kind,
          pos: expr.pos,
          run: (ctx) => not(asBool(operand.run(ctx), ctx.n), ctx.n),
        };
      }
      if (!isNumericKind(operand.kind) && operand.kind !== 'null') {
        expressionError(`unary '-' needs a number, got ${operand.kind}`, expr.pos);
      }
      const kind = operand.kind === 'int' ? 'float' : operand.kind === 'null' ? 'float' : operand.kind;
      return { kind, pos: expr.pos, run: (ctx) => negate(coerce(operand.run(ctx), kind, ctx.n), ctx.n) };
    }
    case 'binary':
      return bindBinary(expr.op, bindExpression(expr.left, schema), bindExpression(expr.right, schema), expr.pos);
    case 'is_null': {
      const operand = bindExpression(expr.operand, schema);
      const negated = expr.negated;
      return {
        kind: 'bool',
        pos: expr.pos,
        run: (ctx) => {
          const { valid } = operand.run(ctx);
          const values = new Uint8Array(ctx.n);
          for (let i = 0; i < ctx.n; i++) values[i] = (valid ? valid[i] : 1) ^ (negated ? 0 : 1);
          return { kind: 'bool', values, valid: null };
        },
      };
    }
    case 'in':
      return negateIf(
        expr.negated,
        bindIn(
          bindExpression(expr.operand, schema),
          expr.list.map((item) => bindExpression(item, schema)),
          expr.pos,
        ),
      );
    case 'between': {
      const operand = bindExpression(expr.operand, schema);
      const low = bindBinary('>=', operand, bindExpression(expr.low, schema), expr.pos);
      const high = bindBinary('<=', operand, bindExpression(expr.high, schema), expr.pos);
      return negateIf(expr.negated, bindBinary('and', low, high, expr.pos));
    }
    case 'match':
      return negateIf(
        expr.negated,
        bindMatch(expr.op, bindExpression(expr.operand, schema), bindExpression(expr.pattern, schema), expr.pos),
      );
    case 'call': {
      const spec = FUNCTIONS.get(expr.name);
      if (!spec) expressionError(`unknown function '${expr.name}'`, expr.pos);
      const [min, max] = spec.arity;
      if (expr.args.length < min || expr.args.length > max) {
        const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        expressionError(`${expr.name}() takes ${expected} argument${expected === '1' ? '' : 's'}, got ${expr.args.length}`, expr.pos);
      }
      const args = expr.args.map((arg) => bindExpression(arg, schema));
      const { kind, apply } = spec.bind(args, expr.pos);
      return {
        kind,
        pos: expr.pos,
        run: (ctx) =>
          apply(
            args.map((arg) => arg.run(ctx)),
            ctx,
          ),
      };
    }
    case 'case':
      return bindCase(
        expr.whens.map((branch) => ({ when: bindExpression(branch.when, schema), then: bindExpression(branch.then, schema) })),
        expr.otherwise ? bindExpression(expr.otherwise, schema) : undefined,
        expr.pos,
      );
  }
}

function bindLiteral(value: LiteralValue, pos: Bound['pos']): Bound {
  let kind: Kind;
  if (value === null) kind = 'null';
  else if (typeof value === 'bigint') kind = 'bigint';
  else if (typeof value === 'number') kind = Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 'int' : 'float';
  else if (typeof value === 'string') kind = 'string';
  else kind = 'bool';
  return { kind, pos, literal: { value }, run: (ctx) => constantColumn(kind, value, ctx.n) };
}

function requireKind(bound: Bound, kind: Kind, what: string): void {
  if (bound.kind !== kind && bound.kind !== 'null')
    expressionError(`${what} needs ${kind === 'bool' ? 'a boolean' : `a ${kind}`}, got ${bound.kind}`, bound.pos);
}

/** Brings both sides to one kind; a string literal meeting a timestamp must be a valid date. */
function unify(left: Bound, right: Bound, what: string, pos: Bound['pos']): Kind {
  const kind = commonKind(left.kind, right.kind);
  if (!kind) expressionError(`${what} cannot combine ${left.kind} with ${right.kind}`, pos);
  for (const side of [left, right]) {
    if (kind === 'timestamp' && side.kind === 'string' && side.literal && Number.isNaN(parseTimestamp(String(side.literal.value)))) {
      expressionError(`'${String(side.literal.value)}' is not a date or timestamp`, side.pos);
    }
  }
  return kind;
}

type Comparable = ArrayLike<number | bigint | string>;

/** One tight loop per operator: a per-row callback would cost more than the comparison. */
const COMPARE: Record<string, (a: Comparable, b: Comparable, out: Uint8Array, n: number) => void> = {
  '=': (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] === b[i] ? 1 : 0;
  },
  '!=': (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] !== b[i] ? 1 : 0;
  },
  '<': (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] < b[i] ? 1 : 0;
  },
  '<=': (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] <= b[i] ? 1 : 0;
  },
  '>': (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0;
  },
  '>=': (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] >= b[i] ? 1 : 0;
  },
};

function bindBinary(op: BinaryOp, left: Bound, right: Bound, pos: Bound['pos']): Bound {
  if (op === 'and' || op === 'or') {
    requireKind(left, 'bool', `'${op}'`);
    requireKind(right, 'bool', `'${op}'`);
    const combine = op === 'and' ? and : or;
    return { kind: 'bool', pos, run: (ctx) => combine(asBool(left.run(ctx), ctx.n), asBool(right.run(ctx), ctx.n), ctx.n) };
  }
  if (op in COMPARE) {
    const kind = unify(left, right, `'${op}'`, pos);
    if (kind === 'other') expressionError(`'${op}' cannot compare values of this column type`, pos);
    const test = COMPARE[op];
    return {
      kind: 'bool',
      pos,
      run: (ctx) => {
        const n = ctx.n;
        const a = coerce(left.run(ctx), kind, n);
        const b = coerce(right.run(ctx), kind, n);
        const values = new Uint8Array(n);
        if (a.values !== null && b.values !== null) test(a.values as Comparable, b.values as Comparable, values, n);
        return { kind: 'bool', values, valid: mergeValid(n, a.valid, b.valid) };
      },
    };
  }
  return bindArithmetic(op, left, right, pos);
}

function bindArithmetic(op: BinaryOp, left: Bound, right: Bound, pos: Bound['pos']): Bound {
  const numeric = (k: Kind): boolean => isNumericKind(k) || k === 'null';
  let kind: Kind;
  let operandKind: Kind;
  if (numeric(left.kind) && numeric(right.kind)) {
    operandKind = commonKind(left.kind, right.kind) ?? 'float';
    if (operandKind === 'null' || operandKind === 'int') operandKind = 'float';
    // Division always yields a double, as users of Python and JavaScript expect.
    if (op === '/') operandKind = operandKind === 'bigint' ? 'bigint' : 'float';
    kind = op === '/' ? 'float' : operandKind;
  } else if ((op === '+' || op === '-') && left.kind === 'timestamp' && numeric(right.kind)) {
    // Timestamps move by milliseconds; the difference of two is milliseconds too.
    operandKind = 'float';
    kind = 'timestamp';
  } else if (op === '+' && numeric(left.kind) && right.kind === 'timestamp') {
    operandKind = 'float';
    kind = 'timestamp';
  } else if (op === '-' && left.kind === 'timestamp' && right.kind === 'timestamp') {
    operandKind = 'float';
    kind = 'float';
  } else {
    const hint = op === '+' && (left.kind === 'string' || right.kind === 'string') ? ' (use concat() for strings)' : '';
    return expressionError(`'${op}' needs numbers, got ${left.kind} and ${right.kind}`, pos, hint);
  }
  return {
    kind,
    pos,
    run: (ctx) => {
      const n = ctx.n;
      // Timestamps already hold milliseconds in a Float64Array; numbers meet at the operand kind.
      const a = left.kind === 'timestamp' ? left.run(ctx) : coerce(left.run(ctx), operandKind, n);
      const b = right.kind === 'timestamp' ? right.run(ctx) : coerce(right.run(ctx), operandKind, n);
      const valid = mergeValid(n, a.valid, b.valid);
      if (a.kind === 'bigint' && b.kind === 'bigint') return bigintArithmetic(op, a.values, b.values, valid, n, kind);
      return floatArithmetic(op, a.values as Float64Array, b.values as Float64Array, valid, n, kind);
    },
  };
}

function floatArithmetic(op: BinaryOp, a: Float64Array, b: Float64Array, valid: Uint8Array | null, n: number, kind: Kind): Col {
  const out = new Float64Array(n);
  switch (op) {
    case '+':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      break;
    case '-':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      break;
    case '*':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      break;
    case '/':
    case '%': {
      // Division by zero gives null (SQL raises; one bad row should not stop a stream).
      const divValid = valid ? valid : new Uint8Array(n).fill(1);
      for (let i = 0; i < n; i++) {
        if (b[i] === 0) divValid[i] = 0;
        else out[i] = op === '/' ? a[i] / b[i] : a[i] % b[i];
      }
      return { kind: kind as 'float', values: out, valid: divValid };
    }
  }
  return { kind: kind as 'float', values: out, valid };
}

function bigintArithmetic(op: BinaryOp, a: BigInt64Array, b: BigInt64Array, valid: Uint8Array | null, n: number, kind: Kind): Col {
  if (op === '/') {
    const out = new Float64Array(n);
    const divValid = valid ? valid : new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      if (b[i] === 0n) divValid[i] = 0;
      else out[i] = Number(a[i]) / Number(b[i]);
    }
    return { kind: 'float', values: out, valid: divValid };
  }
  // BigInt64Array stores results modulo 2^64, like Int64 overflow in other engines.
  const out = new BigInt64Array(n);
  switch (op) {
    case '+':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      break;
    case '-':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      break;
    case '*':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      break;
    case '%': {
      const divValid = valid ? valid : new Uint8Array(n).fill(1);
      for (let i = 0; i < n; i++) {
        if (b[i] === 0n) divValid[i] = 0;
        else out[i] = a[i] % b[i];
      }
      return { kind: kind as 'bigint', values: out, valid: divValid };
    }
  }
  return { kind: kind as 'bigint', values: out, valid };
}

function negate(col: Col, n: number): Col {
  if (col.kind === 'bigint') {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = -col.values[i];
    return { kind: 'bigint', values: out, valid: col.valid };
  }
  const values = col.values as Float64Array;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = -values[i];
  return { kind: 'float', values: out, valid: col.valid };
}

function asBool(col: Col, n: number): Col & { kind: 'bool' } {
  return col.kind === 'bool' ? col : { kind: 'bool', values: new Uint8Array(n), valid: new Uint8Array(n) };
}

/** SQL three-valued AND: false wins over null, null wins over true. */
function and(a: Col & { kind: 'bool' }, b: Col & { kind: 'bool' }, n: number): Col {
  const values = new Uint8Array(n);
  const valid = a.valid || b.valid ? new Uint8Array(n) : null;
  for (let i = 0; i < n; i++) {
    const av = a.valid ? a.valid[i] : 1;
    const bv = b.valid ? b.valid[i] : 1;
    const aFalse = av && !a.values[i];
    const bFalse = bv && !b.values[i];
    if (aFalse || bFalse) {
      if (valid) valid[i] = 1;
    } else if (av && bv) {
      values[i] = 1;
      if (valid) valid[i] = 1;
    }
  }
  return { kind: 'bool', values, valid };
}

/** SQL three-valued OR: true wins over null, null wins over false. */
function or(a: Col & { kind: 'bool' }, b: Col & { kind: 'bool' }, n: number): Col {
  const values = new Uint8Array(n);
  const valid = a.valid || b.valid ? new Uint8Array(n) : null;
  for (let i = 0; i < n; i++) {
    const av = a.valid ? a.valid[i] : 1;
    const bv = b.valid ? b.valid[i] : 1;
    if ((av && a.values[i]) || (bv && b.values[i])) {
      values[i] = 1;
      if (valid) valid[i] = 1;
    } else if (av && bv && valid) {
      valid[i] = 1;
    }
  }
  return { kind: 'bool', values, valid };
}

function not(col: Col & { kind: 'bool' }, n: number): Col {
  const values = new Uint8Array(n);
  for (let i = 0; i < n; i++) values[i] = col.values[i] ^ 1;
  return { kind: 'bool', values, valid: col.valid };
}

function negateIf(negated: boolean, bound: Bound): Bound {
  if (!negated) return bound;
  return { kind: 'bool', pos: bound.pos, run: (ctx) => not(asBool(bound.run(ctx), ctx.n), ctx.n) };
}

/** `x in (a, b, ...)`: true on any match, else null if x or any item is null, else false. */
function bindIn(operand: Bound, list: Bound[], pos: Bound['pos']): Bound {
  let kind = operand.kind;
  for (const item of list) kind = unify({ ...operand, kind }, item, "'in'", item.pos);
  if (kind === 'other') expressionError("'in' cannot compare values of this column type", pos);
  const allLiteral = list.every((item) => item.literal);
  if (allLiteral && kind !== 'timestamp' && kind !== 'bool' && kind !== 'null') {
    // Literal lists become one set lookup per row.
    const items = list.map((item) => item.literal!.value).filter((v) => v !== null);
    const set = new Set<unknown>(kind === 'bigint' ? items.map((v) => BigInt(v as number | bigint)) : items);
    const listHasNull = items.length < list.length;
    return {
      kind: 'bool',
      pos,
      run: (ctx) => {
        const n = ctx.n;
        const a = coerce(operand.run(ctx), kind, n);
        const values = new Uint8Array(n);
        const valid = a.valid || listHasNull ? new Uint8Array(n) : null;
        const av = a.values as ArrayLike<unknown>;
        for (let i = 0; i < n; i++) {
          if (a.valid && !a.valid[i]) continue;
          // NaN never equals anything, as with '='.
          const hit = set.has(av[i]) && av[i] === av[i];
          values[i] = hit ? 1 : 0;
          if (valid) valid[i] = hit || !listHasNull ? 1 : 0;
        }
        return { kind: 'bool', values, valid };
      },
    };
  }
  return list.map((item) => bindBinary('=', operand, item, item.pos)).reduce((acc, eq) => bindBinary('or', acc, eq, pos));
}

/** `like` (SQL `%` and `_`, backslash escapes), `ilike` (case-insensitive) and `regexp` / `~`. */
function bindMatch(op: 'like' | 'ilike' | 'regexp', operand: Bound, pattern: Bound, pos: Bound['pos']): Bound {
  requireKind(operand, 'string', `'${op === 'regexp' ? '~' : op}'`);
  requireKind(pattern, 'string', `the pattern of '${op === 'regexp' ? '~' : op}'`);
  const toRegExp = (text: string, at: Bound['pos']): RegExp => {
    if (op !== 'regexp') return likeToRegExp(text, op === 'ilike');
    try {
      return new RegExp(text, 'u');
    } catch (error) {
      return expressionError(`invalid regular expression: ${(error as Error).message}`, at);
    }
  };
  const fixed = pattern.literal && typeof pattern.literal.value === 'string' ? toRegExp(pattern.literal.value, pattern.pos) : undefined;
  return {
    kind: 'bool',
    pos,
    run: (ctx) => {
      const n = ctx.n;
      const a = operand.run(ctx);
      const p = pattern.run(ctx);
      const valid = mergeValid(n, a.valid, p.valid);
      const values = new Uint8Array(n);
      if (a.kind !== 'string' || p.kind !== 'string') return { kind: 'bool', values, valid: new Uint8Array(n) };
      const cache = new Map<string, RegExp>();
      for (let i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        let re = fixed;
        if (!re) {
          re = cache.get(p.values[i]);
          if (!re) {
            re = toRegExp(p.values[i], pattern.pos);
            cache.set(p.values[i], re);
          }
        }
        values[i] = re.test(a.values[i]) ? 1 : 0;
      }
      return { kind: 'bool', values, valid };
    },
  };
}

/** Regex matching the whole text the way SQL LIKE does. */
export function likeToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (ch === '%') source += '[^]*';
    else if (ch === '_') source += '.';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'isu' : 'su');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function bindCase(whens: { when: Bound; then: Bound }[], otherwise: Bound | undefined, pos: Bound['pos']): Bound {
  for (const branch of whens) requireKind(branch.when, 'bool', "'when'");
  const results = otherwise ? [...whens.map((b) => b.then), otherwise] : whens.map((b) => b.then);
  let kind: Kind = 'null';
  for (const result of results) kind = unify({ ...result, kind }, result, "'case' branches", result.pos);
  if (kind === 'other') expressionError("'case' cannot return values of this column type", pos);
  return {
    kind,
    pos,
    run: (ctx) => {
      const n = ctx.n;
      const out = constantColumn(kind, null, n);
      const valid = out.valid!;
      const decided = new Uint8Array(n);
      const take = (source: Col, rows: (i: number) => boolean): void => {
        const from = coerce(source, kind, n);
        const target = out.values as unknown as unknown[];
        const values = from.values as unknown as unknown[] | null;
        for (let i = 0; i < n; i++) {
          if (decided[i] || !rows(i)) continue;
          decided[i] = 1;
          if (from.valid && !from.valid[i]) continue;
          valid[i] = 1;
          if (values && target) target[i] = values[i];
        }
      };
      for (const branch of whens) {
        const cond = asBool(branch.when.run(ctx), n);
        take(branch.then.run(ctx), (i) => cond.values[i] === 1 && (!cond.valid || cond.valid[i] === 1));
      }
      if (otherwise) take(otherwise.run(ctx), () => true);
      return out;
    },
  };
}

export type { EvalContext };
