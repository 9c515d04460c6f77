import type { RecordBatch } from 'apache-arrow';
import { rowsOf, withData, type Batch } from '../../core/batch.js';
import type { DeadLetter } from '../../core/dead-letter.js';
import { SluiceError } from '../../core/errors.js';
import { indicesOfMask, takeRows, withColumns } from '../arrow-ops.js';
import { utf8Vector } from '../expression/columns.js';
import { compileRule, type RuleCheck } from './rule-checks.js';
import type { QualityReport, ValidationRule } from './rules.js';

/** Column naming the failed `flag` rules of a row (null when none failed). */
export const FLAG_COLUMN = '_validation_flags';

interface CompiledRule {
  name: string;
  type: string;
  action: 'fail' | 'dead_letter' | 'flag';
  check: RuleCheck;
  checked: number;
  failed: number;
}

/**
 * Runs validation rules over batches, keeping the quality report of everything it saw. `apply`
 * enforces the actions: `fail` throws `SLUICE_RECORD_INVALID`, `dead_letter` moves the row to the
 * batch's dead letters (one letter naming every rule it broke), `flag` keeps the row and names the
 * rule in the `_validation_flags` column.
 */
export class Validator {
  private readonly rules: CompiledRule[];
  private rowsChecked = 0;
  private rowsFailed = 0;

  constructor(
    rules: ValidationRule[],
    private readonly node = 'validate',
  ) {
    this.rules = rules.map((rule, i) => {
      const name = rule.name ?? `${rule.type}_${i}`;
      return { name, type: rule.type, action: rule.action ?? 'flag', check: compileRule(rule, name), checked: 0, failed: 0 };
    });
  }

  /** Checks a batch and updates the report; returns each rule's failure mask. */
  check(data: RecordBatch): Uint8Array[] {
    const n = data.numRows;
    const masks = this.rules.map((rule) => rule.check(data));
    const any = new Uint8Array(n);
    this.rules.forEach((rule, r) => {
      let failed = 0;
      for (let i = 0; i < n; i++) {
        failed += masks[r][i];
        any[i] |= masks[r][i];
      }
      rule.checked += n;
      rule.failed += failed;
    });
    this.rowsChecked += n;
    for (let i = 0; i < n; i++) this.rowsFailed += any[i];
    return masks;
  }

  apply(batch: Batch): Batch {
    const data = batch.data;
    const n = data.numRows;
    const masks = this.check(data);
    for (const [r, rule] of this.rules.entries()) {
      if (rule.action !== 'fail') continue;
      const first = masks[r].indexOf(1);
      if (first >= 0) {
        const count = masks[r].reduce((a, b) => a + b, 0);
        const [row] = rowsOf(takeRows(data, Int32Array.of(first)));
        throw new SluiceError(
          'SLUICE_RECORD_INVALID',
          `validate: rule '${rule.name}' (${rule.type}) failed for ${count} row(s); first: ${JSON.stringify(row, bigintSafe)}`,
        );
      }
    }
    let out = data;
    const flagRules = this.rules.map((rule, r) => ({ rule, mask: masks[r] })).filter((x) => x.rule.action === 'flag');
    if (flagRules.length > 0) {
      const flags: string[] = new Array(n);
      const valid = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const names = flagRules.filter((x) => x.mask[i]).map((x) => x.rule.name);
        if (names.length > 0) {
          flags[i] = names.join(',');
          valid[i] = 1;
        } else flags[i] = '';
      }
      out = withColumns(out, [{ name: FLAG_COLUMN, vector: utf8Vector(flags, valid, n) }]);
    }
    const deadRules = this.rules.map((rule, r) => ({ rule, mask: masks[r] })).filter((x) => x.rule.action === 'dead_letter');
    if (deadRules.length === 0) return out === data ? batch : withData(batch, out);
    const reject = new Uint8Array(n);
    for (const { mask } of deadRules) for (let i = 0; i < n; i++) reject[i] |= mask[i];
    const rejected = indicesOfMask(reject);
    if (rejected.length === 0) return out === data ? batch : withData(batch, out);
    const records = rowsOf(takeRows(data, rejected));
    const letters: DeadLetter[] = Array.from(rejected, (row, k) => ({
      node: this.node,
      reason: `failed validation: ${deadRules
        .filter((x) => x.mask[row])
        .map((x) => `${x.rule.name} (${x.rule.type})`)
        .join(', ')}`,
      record: records[k],
    }));
    const kept = takeRows(out, indicesOfMask(reject.map((v) => v ^ 1)));
    return withData(batch, kept, { deadLetters: [...(batch.meta.deadLetters ?? []), ...letters] });
  }

  report(): QualityReport {
    const checked = this.rules.reduce((a, r) => a + r.checked, 0);
    const failed = this.rules.reduce((a, r) => a + r.failed, 0);
    return {
      rows_checked: this.rowsChecked,
      rows_passed: this.rowsChecked - this.rowsFailed,
      rows_failed: this.rowsFailed,
      data_quality_score: checked === 0 ? 1 : (checked - failed) / checked,
      rules: this.rules.map((r) => ({
        name: r.name,
        type: r.type,
        action: r.action,
        checked: r.checked,
        passed: r.checked - r.failed,
        failed: r.failed,
      })),
    };
  }
}

function bigintSafe(_: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * The quality report of a table under some rules, without the runtime (the control plane's
 * validation endpoint): actions are not enforced, only counted.
 *
 * @example validateTable(batches, [{ type: 'not_null', columns: ['resource_id'] }]).data_quality_score
 */
export function validateTable(batches: Iterable<RecordBatch>, rules: ValidationRule[]): QualityReport {
  const validator = new Validator(rules);
  for (const data of batches) validator.check(data);
  return validator.report();
}
