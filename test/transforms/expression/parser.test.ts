import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../../src/core/errors.js';
import { parseExpression } from '../../../src/transforms/expression/index.js';
import { referencedColumns } from '../../../src/transforms/expression/ast.js';

function parseFailure(text: string): string {
  try {
    parseExpression(text);
  } catch (error) {
    expect(isSluiceError(error) && error.code).toBe('SLUICE_EXPRESSION_INVALID');
    return (error as Error).message;
  }
  throw new Error(`expected ${text} not to parse`);
}

describe('parseExpression errors', () => {
  it('names the missing closing parenthesis and its position', () => {
    expect(parseFailure('lower(name) in (1, 2')).toBe("expected ')' at 1:21");
    expect(parseFailure("upper(name = 'x' 'y'")).toBe("expected ')' at 1:18 but found string");
  });

  it('reports line and column on multi-line text', () => {
    expect(parseFailure('a = 1\n  and (b >')).toBe('unexpected end of expression at 2:11');
    expect(parseFailure('a = 1 and\n  b @ 2')).toBe("unexpected character '@' at 2:5");
  });

  it('rejects malformed literals and keywords in the wrong place', () => {
    expect(parseFailure("name = 'open")).toBe('unterminated string at 1:8');
    expect(parseFailure('`odd name = 1')).toBe('unterminated quoted column name at 1:1');
    expect(parseFailure('a between 1 or 2')).toBe("expected 'and' at 1:13 but found 'or'");
    expect(parseFailure('a not 3')).toBe("expected 'in', 'between', 'like' or 'regexp' after 'not' at 1:7");
    expect(parseFailure('case when a then 1')).toBe("expected 'end' at 1:19");
    expect(parseFailure('case end')).toBe("expected 'when' at 1:6 but found 'end'");
    expect(parseFailure('1.5e')).toBe('malformed number exponent at 1:5');
    expect(parseFailure('a = = 1')).toBe("unexpected '=' at 1:5");
    expect(parseFailure('a < b < c')).toBe("unexpected '<' at 1:7");
  });
});

describe('parseExpression trees', () => {
  it('binds * tighter than +, and tighter than or, not tighter than and', () => {
    const tree = parseExpression('not a = 1 or b + c * 2 > 3 and d');
    expect(tree).toMatchObject({
      kind: 'binary',
      op: 'or',
      left: { kind: 'unary', op: 'not', operand: { kind: 'binary', op: '=' } },
      right: {
        kind: 'binary',
        op: 'and',
        left: { kind: 'binary', op: '>', left: { op: '+', right: { op: '*' } } },
        right: { kind: 'column', name: 'd' },
      },
    });
  });

  it('reads keywords case-insensitively, backquoted names, doubled quotes and big integers', () => {
    expect(parseExpression('`odd name` IS NOT NULL')).toMatchObject({
      kind: 'is_null',
      negated: true,
      operand: { kind: 'column', name: 'odd name' },
    });
    expect(parseExpression("'it''s'")).toMatchObject({ kind: 'literal', value: "it's" });
    expect(parseExpression('9007199254740993')).toMatchObject({ kind: 'literal', value: 9007199254740993n });
    expect(parseExpression('-2.5')).toMatchObject({ kind: 'literal', value: -2.5 });
    expect(parseExpression('a <> 1')).toMatchObject({ op: '!=' });
    expect(parseExpression('a == 1')).toMatchObject({ op: '=' });
  });

  it('rewrites simple CASE and SQL extract syntax', () => {
    expect(parseExpression("case k when 1 then 'one' else 'many' end")).toMatchObject({
      kind: 'case',
      whens: [{ when: { kind: 'binary', op: '=', left: { name: 'k' }, right: { value: 1 } }, then: { value: 'one' } }],
      otherwise: { value: 'many' },
    });
    expect(parseExpression('extract(month from ts)')).toMatchObject({
      kind: 'call',
      name: 'extract',
      args: [{ value: 'month' }, { name: 'ts' }],
    });
  });

  it('lists referenced columns once, in order', () => {
    expect(referencedColumns(parseExpression('coalesce(b, a) + a * `c d` > 0 and b in (1, e)'))).toEqual(['b', 'a', 'c d', 'e']);
  });
});
