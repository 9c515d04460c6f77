import { Bool, Float64, Int64, Utf8, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../../src/transforms/expression/index.js';
import { typedBatch, valuesOf } from './helpers.js';
import { prng as rng } from '../../../scripts/prng.js';

/**
 * Random expressions checked against a row-by-row reference written here, independently of the
 * parser and the column-wise evaluator: each generated expression carries its text and a plain
 * function computing the SQL value of one row.
 */
type Row = { x: number | null; y: number | null; k: bigint | null; s: string | null; b: boolean | null };
type Value = number | bigint | string | boolean | null;
interface Gen {
  text: string;
  row: (r: Row) => Value;
}

const WORDS = ['alpha', 'Beta', 'gamma', 'héllo', '😀x', '', 'a_b', '100%'];

function randomRows(random: () => number, n: number): Row[] {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  return Array.from({ length: n }, () => ({
    x: random() < 0.15 ? null : random() < 0.05 ? Number.NaN : Math.round((random() * 200 - 100) * 4) / 4,
    y: random() < 0.15 ? null : Math.floor(random() * 7) - 3,
    k: random() < 0.15 ? null : BigInt(Math.floor(random() * 2000) - 1000) * (random() < 0.1 ? 10n ** 12n : 1n),
    s: random() < 0.15 ? null : pick(WORDS),
    b: random() < 0.15 ? null : random() < 0.5,
  }));
}

function toBatch(rows: Row[]): RecordBatch {
  return typedBatch({
    x: [rows.map((r) => r.x), new Float64()],
    y: [rows.map((r) => r.y), new Float64()],
    k: [rows.map((r) => r.k), new Int64()],
    s: [rows.map((r) => r.s), new Utf8()],
    b: [rows.map((r) => r.b), new Bool()],
  });
}

// Reference semantics, row by row.
const and3 = (a: Value, b: Value): Value => (a === false || b === false ? false : a === null || b === null ? null : true);
const or3 = (a: Value, b: Value): Value => (a === true || b === true ? true : a === null || b === null ? null : false);
const not3 = (a: Value): Value => (a === null ? null : !a);
const strict =
  <T extends Value>(f: (...args: T[]) => Value) =>
  (...args: Value[]): Value =>
    args.some((a) => a === null) ? null : f(...(args as T[]));

function generator(random: () => number) {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

  const num = (depth: number): Gen => {
    const choice = depth <= 0 ? int(0, 2) : int(0, 7);
    switch (choice) {
      case 0:
        return { text: 'x', row: (r) => r.x };
      case 1:
        return { text: 'y', row: (r) => r.y };
      case 2: {
        const v = int(-5, 5);
        return { text: `${v}`, row: () => v };
      }
      case 3:
      case 4: {
        const op = pick(['+', '-', '*'] as const);
        const a = num(depth - 1);
        const b = num(depth - 1);
        const f = { '+': (p: number, q: number) => p + q, '-': (p: number, q: number) => p - q, '*': (p: number, q: number) => p * q }[op];
        return { text: `(${a.text} ${op} ${b.text})`, row: (r) => strict<number>(f)(a.row(r), b.row(r)) };
      }
      case 5: {
        const a = num(depth - 1);
        const b = num(depth - 1);
        return { text: `(${a.text} / ${b.text})`, row: (r) => strict<number>((p, q) => (q === 0 ? null : p / q))(a.row(r), b.row(r)) };
      }
      case 6: {
        const a = num(depth - 1);
        return { text: `abs(${a.text})`, row: (r) => strict<number>(Math.abs)(a.row(r)) };
      }
      default: {
        const a = num(depth - 1);
        const b = num(depth - 1);
        return { text: `coalesce(${a.text}, ${b.text})`, row: (r) => a.row(r) ?? b.row(r) };
      }
    }
  };

  const big = (depth: number): Gen => {
    if (depth <= 0 || random() < 0.3) return { text: 'k', row: (r) => r.k };
    const op = pick(['+', '-', '*'] as const);
    const a = big(depth - 1);
    const v = BigInt(int(-50, 50));
    const f = { '+': (p: bigint) => p + v, '-': (p: bigint) => p - v, '*': (p: bigint) => p * v }[op];
    return { text: `(${a.text} ${op} ${v})`, row: (r) => strict<bigint>((p) => BigInt.asIntN(64, f(p)))(a.row(r)) };
  };

  const str = (depth: number): Gen => {
    const choice = depth <= 0 ? int(0, 1) : int(0, 4);
    switch (choice) {
      case 0:
        return { text: 's', row: (r) => r.s };
      case 1: {
        const w = pick(WORDS);
        return { text: `'${w}'`, row: () => w };
      }
      case 2: {
        const a = str(depth - 1);
        return { text: `upper(${a.text})`, row: (r) => strict<string>((p) => p.toUpperCase())(a.row(r)) };
      }
      case 3: {
        const a = str(depth - 1);
        const b = str(depth - 1);
        return { text: `concat(${a.text}, ${b.text})`, row: (r) => `${a.row(r) ?? ''}${b.row(r) ?? ''}` };
      }
      default: {
        const a = str(depth - 1);
        const start = int(-1, 4);
        const len = int(0, 4);
        return {
          text: `substr(${a.text}, ${start}, ${len})`,
          row: (r) => strict<string>((p) => [...p].filter((_, i) => i + 1 >= start && i + 1 < start + len).join(''))(a.row(r)),
        };
      }
    }
  };

  const cmp = <T extends number | bigint | string>(op: string, p: T, q: T): boolean =>
    op === '=' ? p === q : op === '!=' ? p !== q : op === '<' ? p < q : op === '<=' ? p <= q : op === '>' ? p > q : p >= q;

  const like = (text: string, pattern: string): boolean => {
    // Reference LIKE by dynamic programming over characters (no regular expressions).
    const t = [...text];
    const p = [...pattern];
    const memo = new Map<string, boolean>();
    const go = (i: number, j: number): boolean => {
      const key = `${i},${j}`;
      if (memo.has(key)) return memo.get(key)!;
      let result: boolean;
      if (j === p.length) result = i === t.length;
      else if (p[j] === '%') result = go(i, j + 1) || (i < t.length && go(i + 1, j));
      else result = i < t.length && (p[j] === '_' || p[j] === t[i]) && go(i + 1, j + 1);
      memo.set(key, result);
      return result;
    };
    return go(0, 0);
  };

  const bool = (depth: number): Gen => {
    const choice = depth <= 0 ? int(0, 1) : int(0, 10);
    const op = pick(['=', '!=', '<', '<=', '>', '>=']);
    switch (choice) {
      case 0:
        return { text: 'b', row: (r) => r.b };
      case 1: {
        const a = num(1);
        const b = num(1);
        return { text: `${a.text} ${op} ${b.text}`, row: (r) => strict<number>((p, q) => cmp(op, p, q))(a.row(r), b.row(r)) };
      }
      case 2: {
        const a = str(1);
        const b = str(1);
        return { text: `${a.text} ${op} ${b.text}`, row: (r) => strict<string>((p, q) => cmp(op, p, q))(a.row(r), b.row(r)) };
      }
      case 3: {
        const a = big(2);
        const v = BigInt(int(-100, 100));
        return { text: `${a.text} ${op} ${v}`, row: (r) => strict<bigint>((p) => cmp(op, p, v))(a.row(r)) };
      }
      case 4: {
        const a = bool(depth - 1);
        const b = bool(depth - 1);
        return random() < 0.5
          ? { text: `(${a.text} and ${b.text})`, row: (r) => and3(a.row(r), b.row(r)) }
          : { text: `(${a.text} or ${b.text})`, row: (r) => or3(a.row(r), b.row(r)) };
      }
      case 5: {
        const a = bool(depth - 1);
        return { text: `not (${a.text})`, row: (r) => not3(a.row(r)) };
      }
      case 6: {
        const a = pick([num(1), str(1)]);
        const negated = random() < 0.5;
        return { text: `${a.text} is ${negated ? 'not ' : ''}null`, row: (r) => (a.row(r) === null) !== negated };
      }
      case 7: {
        const a = num(1);
        const items = Array.from({ length: int(1, 4) }, () => (random() < 0.15 ? null : int(-4, 4)));
        const negated = random() < 0.3;
        const text = `${a.text} ${negated ? 'not ' : ''}in (${items.map((v) => (v === null ? 'null' : v)).join(', ')})`;
        return {
          text,
          row: (r) => {
            const v = a.row(r) as number | null;
            const hit = v === null ? null : items.some((item) => item === v) ? true : items.includes(null) ? null : false;
            return negated ? not3(hit) : hit;
          },
        };
      }
      case 8: {
        const a = num(1);
        const lo = int(-5, 2);
        const hi = lo + int(0, 5);
        return { text: `${a.text} between ${lo} and ${hi}`, row: (r) => strict<number>((p) => p >= lo && p <= hi)(a.row(r)) };
      }
      case 9: {
        const a = str(1);
        const pattern = pick(['%a%', 'a%', '_%', '%', 'h_llo', '%x', '___', '']);
        return { text: `${a.text} like '${pattern}'`, row: (r) => strict<string>((p) => like(p, pattern))(a.row(r)) };
      }
      default: {
        const c = bool(depth - 1);
        const t = bool(depth - 1);
        const e = bool(depth - 1);
        return { text: `case when ${c.text} then ${t.text} else ${e.text} end`, row: (r) => (c.row(r) === true ? t.row(r) : e.row(r)) };
      }
    }
  };

  return { num, big, str, bool };
}

describe('expression evaluation against a row-by-row reference', () => {
  const random = rng(20240611);
  const rows = randomRows(random, 400);
  const batch = toBatch(rows);
  const gen = generator(random);

  const check = (g: Gen) => {
    const actual = valuesOf(compileExpression(g.text).evaluate(batch));
    const expected = rows.map((r) => g.row(r));
    for (let i = 0; i < rows.length; i++) {
      if (!Object.is(actual[i], expected[i]) && actual[i] !== expected[i]) {
        throw new Error(
          `${g.text} row ${i} ${JSON.stringify(rows[i], (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}: got ${String(actual[i])}, expected ${String(expected[i])}`,
        );
      }
    }
  };

  it('numeric expressions (doubles, nulls, NaN, division by zero)', () => {
    for (let i = 0; i < 150; i++) check(gen.num(3));
  });

  it('Int64 expressions stay exact', () => {
    for (let i = 0; i < 60; i++) check(gen.big(3));
  });

  it('string expressions over unicode text', () => {
    for (let i = 0; i < 100; i++) check(gen.str(3));
  });

  it('predicates with three-valued logic, and masks keep exactly the true rows', () => {
    for (let i = 0; i < 250; i++) {
      const g = gen.bool(3);
      check(g);
      const mask = compileExpression(g.text).evaluateMask(batch);
      expect([...mask], g.text).toEqual(rows.map((r) => (g.row(r) === true ? 1 : 0)));
    }
  });
});
