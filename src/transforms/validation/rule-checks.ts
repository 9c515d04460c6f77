import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { SluiceError, type ErrorIssue } from '../../core/errors.js';
import { kindOfType, loadColumn } from '../expression/columns.js';
import { compileExpression } from '../expression/index.js';
import { missingMask } from '../columns/fill.js';
import { KeyIndex } from '../columns/key-index.js';
import { readNumbers } from '../columns/numbers.js';
import { arrowDetectedType, detectValueType, widenType, type DetectedType } from '../profile/type-detect.js';
import type { DataTypeName, ValidationRule } from './rules.js';

/** Rows of a batch that break a rule: 1 = fails. */
export type RuleCheck = (data: RecordBatch) => Uint8Array;

/** Rule types that test one column. */
const SINGLE_COLUMN = new Set(['range', 'regex', 'allowed_values', 'type']);
/** The field each rule type reads its test from. */
const TEST_FIELD: Record<string, keyof ValidationRule> = {
  regex: 'pattern',
  allowed_values: 'values',
  type: 'expected_type',
  schema: 'schema',
  expression: 'expression',
};

/** What a rule needs beyond its schema: the columns and the test its type reads, and a pattern that compiles. */
export function ruleIssues(rule: ValidationRule, path: string): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  const columns = rule.columns ?? (rule.column ? [rule.column] : []);
  if ((rule.type === 'not_null' || rule.type === 'unique') && columns.length === 0)
    issues.push({ path: `${path}.columns`, message: `${rule.type} needs columns` });
  if (SINGLE_COLUMN.has(rule.type) && columns.length !== 1)
    issues.push({ path: `${path}.column`, message: `rule ${rule.type} needs one column` });
  const field = TEST_FIELD[rule.type];
  // An empty pattern is a valid regular expression; an empty value of the other tests is not.
  if (field && (field === 'pattern' ? rule.pattern === undefined : !rule[field]))
    issues.push({ path: `${path}.${field}`, message: `${rule.type} needs ${field}` });
  if (rule.type === 'range' && rule.min_value === undefined && rule.max_value === undefined)
    issues.push({ path, message: 'range needs min_value and/or max_value' });
  if (rule.type === 'regex' && rule.pattern !== undefined) issues.push(...patternIssues(rule.pattern, `${path}.pattern`));
  return issues;
}

function patternIssues(pattern: string, path: string): ErrorIssue[] {
  try {
    new RegExp(pattern);
    return [];
  } catch (error) {
    return [{ path, message: (error as Error).message }];
  }
}

function column(data: RecordBatch, name: string, rule: string): Vector {
  const vector = data.getChild(name);
  if (!vector)
    throw new SluiceError(
      'SLUICE_TRANSFORM_FAILED',
      `validate rule '${rule}': no column '${name}' (columns: ${data.schema.fields.map((f) => f.name).join(', ')})`,
    );
  return vector;
}

/**
 * Compiles a rule (one without {@link ruleIssues}) into a column-wise check. Nulls pass every rule but not_null (as SQL CHECK
 * constraints); `unique` keeps the keys seen so far (running state, never rows), so the second
 * and later rows of a key fail, across batches; keys with a null are not compared.
 */
export function compileRule(rule: ValidationRule, name: string): RuleCheck {
  const columns = rule.columns ?? (rule.column ? [rule.column] : []);
  switch (rule.type) {
    case 'not_null': {
      return (data) => {
        const fails = new Uint8Array(data.numRows);
        for (const c of columns) {
          const missing = missingMask(column(data, c, name));
          for (let i = 0; i < fails.length; i++) fails[i] |= missing[i];
        }
        return fails;
      };
    }
    case 'unique': {
      const keys = new KeyIndex(columns.length);
      return (data) => {
        const vectors = columns.map((c) => column(data, c, name));
        const before = keys.size;
        const ids = keys.ids(vectors, data.numRows);
        const hasNull = new Uint8Array(data.numRows);
        for (const v of vectors) {
          const missing = missingMask(v);
          for (let i = 0; i < hasNull.length; i++) hasNull[i] |= missing[i];
        }
        const fails = new Uint8Array(data.numRows);
        let next = before;
        for (let i = 0; i < ids.length; i++) {
          if (ids[i] === next) next++;
          else if (!hasNull[i]) fails[i] = 1;
        }
        return fails;
      };
    }
    case 'range': {
      const c = columns[0];
      const low = rule.min_value ?? -Infinity;
      const high = rule.max_value ?? Infinity;
      return (data) => {
        const { values, valid } = readNumbers(column(data, c, name), `validate rule '${name}' column '${c}'`);
        const fails = new Uint8Array(data.numRows);
        for (let i = 0; i < fails.length; i++) fails[i] = valid[i] && (values[i] < low || values[i] > high) ? 1 : 0;
        return fails;
      };
    }
    case 'regex': {
      const pattern = new RegExp(rule.pattern!);
      return stringCheck(columns[0], name, (s) => !pattern.test(s));
    }
    case 'allowed_values': {
      const c = columns[0];
      const allowed = new Set(rule.values!.map((v) => String(v)));
      const numbers = new Set(rule.values!.filter((v): v is number => typeof v === 'number'));
      return (data) => {
        const vector = column(data, c, name);
        const kind = kindOfType(vector.type as DataType);
        if (kind === 'float' || kind === 'int' || kind === 'bigint') {
          const { values, valid } = readNumbers(vector);
          return Uint8Array.from(values, (v, i) => (valid[i] && !numbers.has(v) ? 1 : 0));
        }
        return stringCheck(c, name, (s) => !allowed.has(s))(data);
      };
    }
    case 'type': {
      return typeCheck(columns[0], rule.expected_type!, name);
    }
    case 'schema': {
      const checks = Object.entries(rule.schema!).map(([c, t]) => ({ c, check: typeCheck(c, t, name) }));
      return (data) => {
        const fails = new Uint8Array(data.numRows);
        for (const { c, check } of checks) {
          // A missing column fails every row.
          const result = data.getChild(c) ? check(data) : fails.slice().fill(1);
          for (let i = 0; i < fails.length; i++) fails[i] |= result[i];
        }
        return fails;
      };
    }
    case 'expression': {
      const expression = compileExpression(rule.expression!);
      return (data) => expression.evaluateMask(data).map((v) => v ^ 1);
    }
    default:
      throw new SluiceError('SLUICE_INTERNAL', `validate: no check for rule type '${rule.type}'`);
  }
}

function stringCheck(c: string, rule: string, fails: (s: string) => boolean): RuleCheck {
  return (data) => {
    const vector = column(data, c, rule);
    const kind = kindOfType(vector.type as DataType);
    const col = loadColumn(vector, 'string');
    const out = new Uint8Array(data.numRows);
    if (kind === 'null') return out;
    const words = col.values as string[];
    // Dictionary columns repeat values: test each distinct text once.
    const cache = new Map<string, number>();
    for (let i = 0; i < out.length; i++) {
      if (col.valid && !col.valid[i]) continue;
      let result = cache.get(words[i]);
      if (result === undefined) cache.set(words[i], (result = fails(words[i]) ? 1 : 0));
      out[i] = result;
    }
    return out;
  };
}

function fits(actual: DetectedType, expected: DataTypeName): boolean {
  if (actual === 'null' || expected === 'string') return true;
  if (expected === 'number') return actual === 'int' || actual === 'float';
  return widenType(expected as DetectedType, actual) === expected;
}

function typeCheck(c: string, expected: DataTypeName, rule: string): RuleCheck {
  const byValue = stringCheck(c, rule, (s) => !fits(detectValueType(s), expected));
  return (data) => {
    const vector = column(data, c, rule);
    const actual = arrowDetectedType(vector.type as DataType);
    if (actual === undefined) return byValue(data);
    if (fits(actual, expected)) return new Uint8Array(data.numRows);
    const missing = missingMask(vector);
    return missing.map((m) => m ^ 1);
  };
}
