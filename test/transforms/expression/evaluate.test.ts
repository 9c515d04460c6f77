import { Bool, DateDay, Float64, Int32, Int64, TimestampMicrosecond, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows } from '../../../src/core/batch.js';
import { compileExpression } from '../../../src/transforms/expression/index.js';
import { typedBatch, valuesOf } from './helpers.js';

const NOW = Date.UTC(2025, 5, 15, 12, 30, 45);

const batch = typedBatch({
  x: [[1, -2.5, null, Number.NaN, 10], new Float64()],
  i: [[3, 0, 7, null, -4], new Int32()],
  k: [[9007199254740993n, -5n, null, 0n, 2n], new Int64()],
  s: [['héllo', 'World', null, '😀ab', ''], new Utf8()],
  b: [[true, false, null, true, false], new Bool()],
  ts: [
    [Date.UTC(2024, 0, 31, 23, 59, 1), Date.UTC(2024, 1, 29, 6, 0), null, Date.UTC(1969, 11, 31, 12), Date.UTC(2024, 11, 31)],
    new TimestampMillisecond(),
  ],
});

function evaluate(text: string): unknown[] {
  return valuesOf(compileExpression(text, { now: () => NOW }).evaluate(batch));
}

function typeOf(text: string): string {
  return String(compileExpression(text).bind(batch.schema).type);
}

function mask(text: string): number[] {
  return [...compileExpression(text).evaluateMask(batch)];
}

describe('arithmetic', () => {
  it('computes + - * / % column-wise with nulls propagating and zero divisors giving null', () => {
    expect(evaluate('x + i')).toEqual([4, -2.5, null, null, 6]);
    expect(evaluate('x - 1')).toEqual([0, -3.5, null, Number.NaN, 9]);
    expect(evaluate('x * 2')).toEqual([2, -5, null, Number.NaN, 20]);
    expect(evaluate('i / 2')).toEqual([1.5, 0, 3.5, null, -2]);
    expect(evaluate('x / i')).toEqual([1 / 3, null, null, null, -2.5]);
    expect(evaluate('i % 3')).toEqual([0, 0, 1, null, -1]);
    expect(evaluate('-x')).toEqual([-1, 2.5, null, Number.NaN, -10]);
    expect(typeOf('i + 1')).toBe('Float64');
  });

  it('keeps Int64 exact as bigint and mixes with floats as doubles', () => {
    expect(evaluate('k + 1')).toEqual([9007199254740994n, -4n, null, 1n, 3n]);
    expect(evaluate('k * k')).toEqual([BigInt.asIntN(64, 9007199254740993n ** 2n), 25n, null, 0n, 4n]);
    expect(evaluate('k % 2')).toEqual([1n, -1n, null, 0n, 0n]);
    expect(evaluate('k % (k - k)')).toEqual([null, null, null, null, null]);
    expect(evaluate('k / 2')).toEqual([9007199254740993 / 2, -2.5, null, 0, 1]);
    expect(evaluate('k + 0.5')).toEqual([9007199254740993 + 0.5, -4.5, null, 0.5, 2.5]);
    expect(evaluate('k = 9007199254740993')).toEqual([true, false, null, false, false]);
    expect(typeOf('k - 1')).toBe('Int64');
  });

  it('rejects strings in arithmetic at bind time', () => {
    expect(() => compileExpression("s + 'x'").bind(batch.schema)).toThrow(
      "'+' needs numbers, got string and string at 1:3 (use concat() for strings)",
    );
  });
});

describe('comparisons and logic', () => {
  it('follows SQL three-valued logic', () => {
    expect(evaluate('b and x > 0')).toEqual([true, false, null, false, false]);
    expect(evaluate('b or x > 0')).toEqual([true, false, null, true, true]);
    expect(evaluate('not b')).toEqual([false, true, null, false, true]);
    expect(evaluate('null and false')).toEqual([false, false, false, false, false]);
    expect(evaluate('null or true')).toEqual([true, true, true, true, true]);
    // A filter keeps only true rows: null and false both drop.
    expect(mask('x > 0 or b')).toEqual([1, 0, 0, 1, 1]);
  });

  it('treats NaN as a value unequal to everything, itself included', () => {
    expect(evaluate('x = x')).toEqual([true, true, null, false, true]);
    expect(evaluate('x != x')).toEqual([false, false, null, true, false]);
    expect(evaluate('x is null')).toEqual([false, false, true, false, false]);
    expect(evaluate('x in (1, 10)')).toEqual([true, false, null, false, true]);
  });

  it('supports every comparison spelling', () => {
    expect(evaluate('i = 0')).toEqual(evaluate('i == 0'));
    expect(evaluate('i <> 0')).toEqual([true, false, true, null, true]);
    expect(evaluate('i != 0')).toEqual(evaluate('i <> 0'));
    expect(evaluate('i < 3')).toEqual([false, true, false, null, true]);
    expect(evaluate('i <= 3')).toEqual([true, true, false, null, true]);
    expect(evaluate('i > 3')).toEqual([false, false, true, null, false]);
    expect(evaluate('i >= 3')).toEqual([true, false, true, null, false]);
    expect(evaluate("s < 'a'")).toEqual([false, true, null, false, true]);
  });

  it('in, not in, between and is not null handle nulls like SQL', () => {
    expect(evaluate('i in (3, 7)')).toEqual([true, false, true, null, false]);
    expect(evaluate('i in (3, null)')).toEqual([true, null, null, null, null]);
    expect(evaluate('i not in (3, null)')).toEqual([false, null, null, null, null]);
    expect(evaluate('i in (x, 0)')).toEqual([false, true, null, null, false]);
    expect(evaluate('i between 0 and 3')).toEqual([true, true, false, null, false]);
    expect(evaluate('i not between 0 and 3')).toEqual([false, false, true, null, true]);
    expect(evaluate('s is not null')).toEqual([true, true, false, true, true]);
    expect(evaluate("s in ('World', 'héllo')")).toEqual([true, true, null, false, false]);
    expect(evaluate('k in (-5, 2)')).toEqual([false, true, null, false, true]);
  });

  it('names unknown columns and non-boolean conditions', () => {
    expect(() => compileExpression('y > 1').evaluate(batch)).toThrow("unknown column 'y' at 1:1 (columns: x, i, k, s, b, ts)");
    expect(() => compileExpression('x + 1').evaluateMask(batch)).toThrow('a condition must be boolean, got float at 1:3');
    expect(() => compileExpression("x = 'a'").evaluate(batch)).toThrow("'=' cannot combine float with string at 1:3");
    expect(() => compileExpression('b and x').evaluate(batch)).toThrow("'and' needs a boolean, got float at 1:7");
    expect(compileExpression('nosuch > 1').columns).toEqual(['nosuch']);
  });
});

describe('pattern matching', () => {
  it('like uses % and _ over whole characters, with escapes', () => {
    expect(evaluate("s like 'h%'")).toEqual([true, false, null, false, false]);
    expect(evaluate("s like '_ab'")).toEqual([false, false, null, true, false]);
    expect(evaluate("s like 'h_llo'")).toEqual([true, false, null, false, false]);
    expect(evaluate("s not like '%o%'")).toEqual([false, false, null, true, true]);
    expect(evaluate("s ilike 'WORLD'")).toEqual([false, true, null, false, false]);
    expect(evaluate("'50%' like '50\\%'")[0]).toBe(true);
    expect(evaluate("'500' like '50\\%'")[0]).toBe(false);
    expect(evaluate("'a.c' like 'a.c'")[0]).toBe(true);
    expect(evaluate("'abc' like 'a.c'")[0]).toBe(false);
  });

  it('regexp and ~ search with JavaScript regular expressions; bad patterns fail at bind time', () => {
    expect(evaluate("s ~ 'l+o$'")).toEqual([true, false, null, false, false]);
    expect(evaluate("s regexp '^[A-Z]'")).toEqual([false, true, null, false, false]);
    expect(evaluate("s not regexp 'o'")).toEqual([false, false, null, true, true]);
    expect(evaluate("s ~ concat('^', s, '$')")).toEqual([true, true, null, true, true]);
    expect(() => compileExpression("s ~ '('").bind(batch.schema)).toThrow(/^invalid regular expression: .*Unterminated group at 1:5$/);
  });
});

describe('string functions', () => {
  it('lower, upper, trim, length count characters, not UTF-16 units', () => {
    expect(evaluate('upper(s)')).toEqual(['HÉLLO', 'WORLD', null, '😀AB', '']);
    expect(evaluate('lower(s)')).toEqual(['héllo', 'world', null, '😀ab', '']);
    expect(evaluate("trim(concat('  ', s, ' '))")).toEqual(['héllo', 'World', '', '😀ab', '']);
    expect(evaluate('length(s)')).toEqual([5, 5, null, 3, 0]);
    expect(typeOf('length(s)')).toBe('Int32');
  });

  it('substr is 1-based over characters, with SQL handling of starts before 1', () => {
    expect(evaluate('substr(s, 2)')).toEqual(['éllo', 'orld', null, 'ab', '']);
    expect(evaluate('substr(s, 1, 2)')).toEqual(['hé', 'Wo', null, '😀a', '']);
    expect(evaluate('substr(s, 0, 2)')).toEqual(['h', 'W', null, '😀', '']);
    expect(evaluate('substr(s, 2, -1)')).toEqual([null, null, null, null, null]);
    expect(evaluate('substr(s, i, 2)')).toEqual(['ll', 'W', null, null, '']);
  });

  it('concat skips nulls and formats other kinds; coalesce takes the first non-null', () => {
    expect(evaluate("concat(s, ':', i, ':', b, ':', k)")).toEqual([
      'héllo:3:true:9007199254740993',
      'World:0:false:-5',
      ':7::',
      '😀ab::true:0',
      ':-4:false:2',
    ]);
    expect(evaluate("concat('t=', ts)")[0]).toBe('t=2024-01-31T23:59:01.000Z');
    expect(evaluate("coalesce(s, 'none')")).toEqual(['héllo', 'World', 'none', '😀ab', '']);
    expect(evaluate('coalesce(x, i, 0)')).toEqual([1, -2.5, 7, Number.NaN, 10]);
    expect(evaluate('coalesce(null, k)')).toEqual([9007199254740993n, -5n, null, 0n, 2n]);
    expect(() => compileExpression('coalesce(s, 1)').bind(batch.schema)).toThrow('coalesce() cannot mix string with int at 1:13');
  });
});

describe('math functions', () => {
  it('abs, round (half away from zero, with digits), floor and ceil', () => {
    expect(evaluate('abs(x)')).toEqual([1, 2.5, null, Number.NaN, 10]);
    expect(evaluate('abs(k)')).toEqual([9007199254740993n, 5n, null, 0n, 2n]);
    expect(evaluate('round(x)')).toEqual([1, -3, null, Number.NaN, 10]);
    expect(evaluate('round(2.5)')[0]).toBe(3);
    expect(evaluate('round(x / 3, 2)')).toEqual([0.33, -0.83, null, Number.NaN, 3.33]);
    expect(evaluate('floor(x)')).toEqual([1, -3, null, Number.NaN, 10]);
    expect(evaluate('ceil(x)')).toEqual([1, -2, null, Number.NaN, 10]);
    expect(typeOf('floor(i)')).toBe('Int32');
    expect(() => compileExpression('abs(s)').bind(batch.schema)).toThrow('abs() needs a number, got string at 1:5');
    expect(() => compileExpression('round(x, 1, 2)').bind(batch.schema)).toThrow('round() takes 1 to 2 arguments, got 3 at 1:1');
  });
});

describe('date functions', () => {
  it('extracts fields in UTC, including before 1970 and on leap days', () => {
    expect(evaluate('year(ts)')).toEqual([2024, 2024, null, 1969, 2024]);
    expect(evaluate('month(ts)')).toEqual([1, 2, null, 12, 12]);
    expect(evaluate('day(ts)')).toEqual([31, 29, null, 31, 31]);
    expect(evaluate('extract(hour from ts)')).toEqual([23, 6, null, 12, 0]);
    expect(evaluate("extract('minute', ts)")).toEqual([59, 0, null, 0, 0]);
    expect(evaluate('extract(second from ts)')).toEqual([1, 0, null, 0, 0]);
    expect(evaluate('extract(dow from ts)')).toEqual([3, 4, null, 3, 2]);
    expect(evaluate('extract(doy from ts)')).toEqual([31, 60, null, 365, 366]);
    expect(evaluate('extract(quarter from ts)')).toEqual([1, 1, null, 4, 4]);
    expect(evaluate('extract(epoch from ts)')[1]).toBe(Date.UTC(2024, 1, 29, 6) / 1000);
  });

  it('date_trunc to each unit', () => {
    const at = (unit: string) => evaluate(`date_trunc('${unit}', ts)`)[0];
    expect(at('second')).toBe(Date.UTC(2024, 0, 31, 23, 59, 1));
    expect(at('minute')).toBe(Date.UTC(2024, 0, 31, 23, 59));
    expect(at('hour')).toBe(Date.UTC(2024, 0, 31, 23));
    expect(at('day')).toBe(Date.UTC(2024, 0, 31));
    expect(at('week')).toBe(Date.UTC(2024, 0, 29)); // a Monday
    expect(at('month')).toBe(Date.UTC(2024, 0, 1));
    expect(at('quarter')).toBe(Date.UTC(2024, 0, 1));
    expect(at('year')).toBe(Date.UTC(2024, 0, 1));
    expect(evaluate("date_trunc('day', ts)")[3]).toBe(Date.UTC(1969, 11, 31));
    expect(typeOf("date_trunc('day', ts)")).toBe('Timestamp<MILLISECOND>');
    expect(() => compileExpression("date_trunc('fortnight', ts)").bind(batch.schema)).toThrow(/date_trunc unit must be one of .* at 1:12/);
  });

  it('now() is one instant per batch; timestamps compare with date strings and move by milliseconds', () => {
    expect(evaluate('now()')).toEqual(Array(5).fill(NOW));
    expect(evaluate("ts >= '2024-02-01'")).toEqual([false, true, null, false, true]);
    expect(evaluate("ts between '2024-01-01' and '2024-06-30 23:59:59'")).toEqual([true, true, null, false, false]);
    expect(evaluate('ts + 1000')[0]).toBe(Date.UTC(2024, 0, 31, 23, 59, 2));
    expect(evaluate("now() - date_trunc('day', now())")[0]).toBe(((12 * 60 + 30) * 60 + 45) * 1000);
    expect(() => compileExpression("ts > 'yesterday'").bind(batch.schema)).toThrow("'yesterday' is not a date or timestamp at 1:6");
  });

  it('reads microsecond timestamps and date columns', () => {
    const other = typedBatch({
      us: [[Date.UTC(2024, 4, 5, 1, 2, 3)], new TimestampMicrosecond()],
      d: [[Date.UTC(2023, 6, 14)], new DateDay()],
    });
    const run = (text: string) => valuesOf(compileExpression(text).evaluate(other));
    expect(run('minute(us)')).toEqual([2]);
    expect(run('concat(d)')).toEqual(['2023-07-14T00:00:00.000Z']);
    expect(run("d = '2023-07-14'")).toEqual([true]);
  });
});

describe('case', () => {
  it('takes the first true branch; null conditions fall through; no else gives null', () => {
    expect(evaluate("case when x > 5 then 'big' when x > 0 then 'small' when b then 'flag' else 'other' end")).toEqual([
      'small',
      'other',
      'other',
      'flag',
      'big',
    ]);
    expect(evaluate('case when i > 0 then i end')).toEqual([3, null, 7, null, null]);
    expect(evaluate("case i when 0 then 'zero' when 3 then 'three' end")).toEqual(['three', 'zero', null, null, null]);
    expect(evaluate('case when b then k else 0 end')).toEqual([9007199254740993n, 0n, 0n, 0n, 0n]);
    expect(typeOf('case when b then 1 else 2.5 end')).toBe('Float64');
    expect(() => compileExpression("case when b then 1 else 'x' end").bind(batch.schema)).toThrow(
      "'case' branches cannot combine int with string at 1:25",
    );
  });
});

describe('column handling', () => {
  it('returns a bare column reference unchanged and reads dictionary strings and odd names', () => {
    const rows = recordBatchFromRows([
      { 'odd name': 'a', n: 1 },
      { 'odd name': 'b', n: 2 },
    ]);
    const expr = compileExpression('`odd name`');
    expect(expr.evaluate(rows).data[0]).toBe(rows.getChildAt(0)!.data[0]);
    expect(valuesOf(compileExpression("`odd name` = 'b' and n > 1").evaluate(rows))).toEqual([false, true]);
  });

  it('evaluates sliced batches at their offset', () => {
    const sliced = batch.slice(1, 4);
    expect(valuesOf(compileExpression('concat(s, i)').evaluate(sliced))).toEqual(['World0', '7', '😀ab']);
    expect(valuesOf(compileExpression('k + 1').evaluate(sliced))).toEqual([-4n, null, 1n]);
    const ascii = typedBatch({ w: [['ab', 'cde', null, 'f', 'gh'], new Utf8()] }).slice(1, 5);
    expect(valuesOf(compileExpression("concat(w, '|')").evaluate(ascii))).toEqual(['cde|', '|', 'f|', 'gh|']);
  });
});
