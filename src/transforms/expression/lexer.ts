import { SluiceError } from '../../core/errors.js';
import type { SourcePos } from './ast.js';

export type TokenType = 'number' | 'string' | 'ident' | 'quoted_ident' | 'keyword' | 'op' | 'eof';

export interface Token {
  type: TokenType;
  /** Keywords are lower-cased; identifiers and strings keep their text (quotes removed). */
  value: string;
  pos: SourcePos;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'between',
  'is',
  'null',
  'true',
  'false',
  'like',
  'ilike',
  'regexp',
  'case',
  'when',
  'then',
  'else',
  'end',
  'from',
]);

// Longest first so `<=` wins over `<`.
const OPERATORS = ['<>', '<=', '>=', '!=', '==', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '~'];

/** Throws the error every expression problem uses: message ending with `at line:col`. */
export function expressionError(message: string, pos: SourcePos, detail = ''): never {
  const where = `${pos.line}:${pos.col}`;
  throw new SluiceError('SLUICE_EXPRESSION_INVALID', `${message} at ${where}${detail}`, {
    issues: [{ path: where, message: message + detail }],
  });
}

/** Splits expression text into tokens, ending with one `eof` token. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const posAt = (index: number): SourcePos => ({ line, col: index - lineStart + 1 });

  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    const start = i;
    const pos = posAt(start);
    if (isDigit(ch) || (ch === '.' && isDigit(text[i + 1]))) {
      while (isDigit(text[i])) i++;
      if (text[i] === '.') {
        i++;
        while (isDigit(text[i])) i++;
      }
      if (text[i] === 'e' || text[i] === 'E') {
        let j = i + 1;
        if (text[j] === '+' || text[j] === '-') j++;
        if (!isDigit(text[j])) expressionError('malformed number exponent', posAt(j));
        i = j;
        while (isDigit(text[i])) i++;
      }
      if (isIdentStart(text[i])) expressionError(`unexpected '${text[i]}' after number`, posAt(i));
      tokens.push({ type: 'number', value: text.slice(start, i), pos });
      continue;
    }
    if (ch === "'") {
      // SQL strings: a doubled quote stands for one quote.
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) expressionError('unterminated string', pos);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (text[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        value += text[i++];
      }
      tokens.push({ type: 'string', value, pos });
      continue;
    }
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) expressionError('unterminated quoted column name', pos);
      if (end === i + 1) expressionError('empty quoted column name', pos);
      tokens.push({ type: 'quoted_ident', value: text.slice(i + 1, end), pos });
      i = end + 1;
      continue;
    }
    if (isIdentStart(ch)) {
      while (i < text.length && isIdentPart(text[i])) i++;
      const word = text.slice(start, i);
      const lower = word.toLowerCase();
      tokens.push(KEYWORDS.has(lower) ? { type: 'keyword', value: lower, pos } : { type: 'ident', value: word, pos });
      continue;
    }
    const op = OPERATORS.find((candidate) => text.startsWith(candidate, i));
    if (!op) expressionError(`unexpected character '${ch}'`, pos);
    tokens.push({ type: 'op', value: op, pos });
    i += op.length;
  }
  tokens.push({ type: 'eof', value: '', pos: posAt(i) });
  return tokens;
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isIdentStart(ch: string | undefined): boolean {
  return ch !== undefined && (ch === '_' || /\p{L}/u.test(ch));
}

function isIdentPart(ch: string): boolean {
  return ch === '_' || ch === '$' || isDigit(ch) || /\p{L}/u.test(ch);
}
