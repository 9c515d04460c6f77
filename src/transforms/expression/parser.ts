import type { BinaryOp, Expr, LiteralValue, SourcePos } from './ast.js';
import { expressionError, tokenize, type Token } from './lexer.js';

const COMPARISONS: Record<string, BinaryOp> = { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/**
 * Parses expression text into a tree. Precedence, lowest first: `or`, `and`, `not`, comparisons and
 * predicates (`in`, `between`, `is null`, `like`, `regexp`/`~`), `+ -`, `* / %`, unary minus.
 *
 * @example parseExpression("status = 'ok' and cost > 10")
 * @throws SluiceError `SLUICE_EXPRESSION_INVALID`, e.g. `expected ')' at 1:17`
 */
export function parseExpression(text: string): Expr {
  const parser = new Parser(tokenize(text));
  const expr = parser.expression();
  parser.expectEnd();
  return expr;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  expression(): Expr {
    return this.or();
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.type !== 'eof') this.unexpected(token);
  }

  private or(): Expr {
    let left = this.and();
    for (let token = this.peek(); this.acceptKeyword('or'); token = this.peek()) {
      const pos = token.pos;
      left = { kind: 'binary', op: 'or', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    for (let token = this.peek(); this.acceptKeyword('and'); token = this.peek()) {
      const pos = token.pos;
      left = { kind: 'binary', op: 'and', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    const token = this.peek();
    if (this.acceptKeyword('not')) return { kind: 'unary', op: 'not', operand: this.not(), pos: token.pos };
    return this.predicate();
  }

  private predicate(): Expr {
    const operand = this.additive();
    const token = this.peek();
    const pos = token.pos;
    if (token.type === 'op' && Object.hasOwn(COMPARISONS, token.value)) {
      this.index++;
      return { kind: 'binary', op: COMPARISONS[token.value], left: operand, right: this.additive(), pos };
    }
    if (token.type === 'op' && token.value === '~') {
      this.index++;
      return { kind: 'match', op: 'regexp', operand, pattern: this.additive(), negated: false, pos };
    }
    if (this.acceptKeyword('is')) {
      const negated = this.acceptKeyword('not');
      this.expectKeyword('null');
      return { kind: 'is_null', operand, negated, pos };
    }
    const negated = this.acceptKeyword('not');
    const next = this.peek();
    if (this.acceptKeyword('in')) {
      this.expectOp('(');
      const list = [this.expression()];
      while (this.acceptOp(',')) list.push(this.expression());
      this.expectOp(')');
      return { kind: 'in', operand, list, negated, pos };
    }
    if (this.acceptKeyword('between')) {
      const low = this.additive();
      this.expectKeyword('and');
      return { kind: 'between', operand, low, high: this.additive(), negated, pos };
    }
    if (next.type === 'keyword' && (next.value === 'like' || next.value === 'ilike' || next.value === 'regexp')) {
      this.index++;
      return { kind: 'match', op: next.value, operand, pattern: this.additive(), negated, pos };
    }
    if (negated) expressionError("expected 'in', 'between', 'like' or 'regexp' after 'not'", next.pos);
    return operand;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const token = this.peek();
      if (token.type !== 'op' || (token.value !== '+' && token.value !== '-')) return left;
      this.index++;
      left = { kind: 'binary', op: token.value, left, right: this.multiplicative(), pos: token.pos };
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.type !== 'op' || (token.value !== '*' && token.value !== '/' && token.value !== '%')) return left;
      this.index++;
      left = { kind: 'binary', op: token.value, left, right: this.unary(), pos: token.pos };
    }
  }

  private unary(): Expr {
    const token = this.peek();
    if (this.acceptOp('-')) {
      const operand = this.unary();
      // Fold `-5` into a literal so integer literals keep their exact value.
      if (operand.kind === 'literal' && (typeof operand.value === 'number' || typeof operand.value === 'bigint')) {
        return { kind: 'literal', value: -operand.value, pos: token.pos };
      }
      return { kind: 'unary', op: '-', operand, pos: token.pos };
    }
    if (this.acceptOp('+')) return this.unary();
    return this.primary();
  }

  private primary(): Expr {
    const token = this.next();
    const pos = token.pos;
    switch (token.type) {
      case 'number':
        return { kind: 'literal', value: numberValue(token.value), pos };
      case 'string':
        return { kind: 'literal', value: token.value, pos };
      case 'quoted_ident':
        return { kind: 'column', name: token.value, pos };
      case 'ident':
        if (this.acceptOp('(')) return this.call(token.value.toLowerCase(), pos);
        return { kind: 'column', name: token.value, pos };
      case 'keyword':
        if (token.value === 'true' || token.value === 'false') return { kind: 'literal', value: token.value === 'true', pos };
        if (token.value === 'null') return { kind: 'literal', value: null, pos };
        if (token.value === 'case') return this.caseExpression(pos);
        break;
      case 'op':
        if (token.value === '(') {
          const inner = this.expression();
          this.expectOp(')');
          return inner;
        }
        break;
    }
    return this.unexpected(token);
  }

  private call(name: string, pos: SourcePos): Expr {
    const args: Expr[] = [];
    // SQL's `extract(month from ts)` is the same call as `extract('month', ts)`.
    const field = this.peek();
    if (name === 'extract' && field.type === 'ident' && this.tokens[this.index + 1].value === 'from') {
      this.index += 2;
      args.push({ kind: 'literal', value: field.value.toLowerCase(), pos: field.pos }, this.expression());
      this.expectOp(')');
      return { kind: 'call', name, args, pos };
    }
    if (!this.acceptOp(')')) {
      args.push(this.expression());
      while (this.acceptOp(',')) args.push(this.expression());
      this.expectOp(')');
    }
    return { kind: 'call', name, args, pos };
  }

  private caseExpression(pos: SourcePos): Expr {
    // `CASE x WHEN 1 THEN ...` compares x with each value: rewritten to `CASE WHEN x = 1 ...`.
    const first = this.peek();
    const subject = first.type === 'keyword' && (first.value === 'when' || first.value === 'end') ? undefined : this.expression();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptKeyword('when')) {
      const value = this.expression();
      const when: Expr = subject ? { kind: 'binary', op: '=', left: subject, right: value, pos: value.pos } : value;
      this.expectKeyword('then');
      whens.push({ when, then: this.expression() });
    }
    if (whens.length === 0) this.expected("'when'");
    const otherwise = this.acceptKeyword('else') ? this.expression() : undefined;
    this.expectKeyword('end');
    return { kind: 'case', whens, otherwise, pos };
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private acceptKeyword(word: string): boolean {
    const token = this.peek();
    if (token.type !== 'keyword' || token.value !== word) return false;
    this.index++;
    return true;
  }

  private acceptOp(op: string): boolean {
    const token = this.peek();
    if (token.type !== 'op' || token.value !== op) return false;
    this.index++;
    return true;
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) this.expected(`'${word}'`);
  }

  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.expected(`'${op}'`);
  }

  private expected(what: string): never {
    const token = this.peek();
    return expressionError(`expected ${what}`, token.pos, token.type === 'eof' ? '' : ` but found ${describe(token)}`);
  }

  private unexpected(token: Token): never {
    return expressionError(token.type === 'eof' ? 'unexpected end of expression' : `unexpected ${describe(token)}`, token.pos);
  }
}

function describe(token: Token): string {
  if (token.type === 'string') return 'string';
  if (token.type === 'quoted_ident') return `\`${token.value}\``;
  return `'${token.value}'`;
}

/** Integer literals beyond 2^53 stay exact as bigint; others are doubles. */
function numberValue(text: string): LiteralValue {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : BigInt(text);
  }
  return Number(text);
}
