import type { RecordBatch, Vector } from 'apache-arrow';
import type { ValidateConfig, ValidationRule } from '../step-configs.js';
import { SluiceError } from '../../core/errors.js';
import { readOutput } from './read-output.js';
import { stopReason } from './run-step-topology.js';
import type { StepRunner } from './step-context.js';

export interface RuleReport {
  name: string;
  type: ValidationRule['type'];
  passed: boolean;
  /** Rows breaking the rule (for row_count: 0 or 1). */
  violations: number;
  message?: string;
}

export interface ValidationReport {
  passed: boolean;
  rows: number;
  rules: RuleReport[];
}

interface RuleState {
  rule: ValidationRule;
  violations: number;
  seen?: Set<string>;
  regex?: RegExp;
  allowed?: Set<unknown>;
  missing?: string[];
}

/**
 * Checks data-quality rules over the input, streaming part by part (a `unique` rule keeps the
 * keys it has seen). The input passes through unchanged as the step output.
 */
export const runValidate: StepRunner = async (ctx) => {
  const config = ctx.step.config as ValidateConfig;
  const input = ctx.outputOf(ctx.step.input!);
  const states: RuleState[] = config.validation_rules.map((rule) => ({
    rule,
    violations: 0,
    seen: rule.type === 'unique' ? new Set() : undefined,
    regex: rule.type === 'pattern' && rule.pattern ? new RegExp(rule.pattern) : undefined,
    allowed: rule.type === 'allowed_values' ? new Set(rule.values ?? []) : undefined,
  }));
  let rows = 0;
  for await (const batch of readOutput(input, ctx.signal)) {
    for (const state of states) checkBatch(state, batch);
    rows += batch.numRows;
    ctx.progress(rows);
  }
  if (ctx.signal.aborted) throw stopReason(ctx);
  const rules = states.map((s) => report(s, rows));
  const result: ValidationReport = { passed: rules.every((r) => r.passed), rows, rules };
  if (!result.passed && config.fail_on_violation) {
    const failed = rules.filter((r) => !r.passed).map((r) => `${r.name} (${r.violations})`);
    throw new SluiceError('SLUICE_RECORD_INVALID', `validation failed: ${failed.join(', ')}`, { retriable: false });
  }
  return { rows, output: input, result };
};

function columnsOf(rule: ValidationRule): string[] {
  return rule.columns ?? (rule.column ? [rule.column] : []);
}

function checkBatch(state: RuleState, batch: RecordBatch): void {
  const { rule } = state;
  if (rule.type === 'row_count') return;
  const columns = columnsOf(rule).map((name) => ({ name, vector: batch.getChild(name) }));
  const missing = columns.filter((c) => !c.vector).map((c) => c.name);
  if (missing.length > 0) {
    state.missing = missing;
    return;
  }
  const vectors = columns.map((c) => c.vector!) as Vector[];
  switch (rule.type) {
    case 'not_null':
      for (const v of vectors) state.violations += v.nullCount;
      return;
    case 'unique':
      for (let r = 0; r < batch.numRows; r++) {
        const key = JSON.stringify(vectors.map((v) => normalizeKey(v.get(r))));
        if (state.seen!.has(key)) state.violations++;
        else state.seen!.add(key);
      }
      return;
    case 'range':
      for (const v of vectors) {
        for (let r = 0; r < v.length; r++) {
          const value = v.get(r);
          if (value === null) continue;
          const n = Number(value);
          if (
            Number.isNaN(n) ||
            (rule.min_value !== undefined && n < rule.min_value) ||
            (rule.max_value !== undefined && n > rule.max_value)
          )
            state.violations++;
        }
      }
      return;
    case 'pattern':
      for (const v of vectors)
        for (let r = 0; r < v.length; r++) if (v.get(r) !== null && !state.regex?.test(String(v.get(r)))) state.violations++;
      return;
    case 'allowed_values':
      for (const v of vectors)
        for (let r = 0; r < v.length; r++) if (v.get(r) !== null && !state.allowed!.has(v.get(r))) state.violations++;
      return;
  }
}

function normalizeKey(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function report(state: RuleState, rows: number): RuleReport {
  const { rule } = state;
  if (state.missing)
    return { name: rule.name, type: rule.type, passed: false, violations: rows, message: `missing column(s): ${state.missing.join(', ')}` };
  if (rule.type === 'row_count') {
    const ok = (rule.min_value === undefined || rows >= rule.min_value) && (rule.max_value === undefined || rows <= rule.max_value);
    return { name: rule.name, type: rule.type, passed: ok, violations: ok ? 0 : 1, ...(ok ? {} : { message: `${rows} rows` }) };
  }
  return { name: rule.name, type: rule.type, passed: state.violations === 0, violations: state.violations };
}
