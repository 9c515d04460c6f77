import { Type, type Static } from '@sinclair/typebox';
import { map, tap } from 'rxjs';
import { registry } from '../core/registry.js';
import { ValidationRule } from './validation/rules.js';
import { ruleIssues } from './validation/rule-checks.js';
import { Validator } from './validation/validator.js';

export const ValidateConfig = Type.Object(
  {
    validation_rules: Type.Array(ValidationRule, {
      minItems: 1,
      description: 'Rules, as in the seed: not_null, unique, range, regex, allowed_values, type, schema, expression.',
    }),
  },
  { additionalProperties: false },
);
export type ValidateConfig = Static<typeof ValidateConfig>;

/**
 * `validate`: checks every row against the rules, column-wise, and enforces each rule's action
 * (`fail`, `dead_letter` or `flag`, the default). `unique` keeps the keys it has seen (running
 * state, never rows), so it works on unbounded input too. The quality report (per rule counts
 * and a data quality score) is logged when the input completes; `validateTable` computes it
 * without the runtime.
 *
 * @example
 * { type: 'validate', config: { validation_rules: [
 *   { name: 'required_fields', type: 'not_null', columns: ['resource_id', 'compliance_status'] },
 *   { name: 'valid_cost_range', type: 'range', column: 'monthly_cost', min_value: 0, max_value: 1000000, action: 'dead_letter' } ] } }
 */
export const validateTransform = registry.transform({
  type: 'validate',
  description: 'Validates rows against rules, with fail, dead_letter or flag actions and a quality report.',
  configSchema: ValidateConfig,
  validate: (config) => config.validation_rules.flatMap((rule, i) => ruleIssues(rule, `validation_rules[${i}]`)),
  create(config, ctx) {
    const validator = new Validator(config.validation_rules, ctx.node);
    return (source) =>
      source.pipe(
        map((batch) => validator.apply(batch)),
        tap({ complete: () => ctx.logger.info({ quality: validator.report() }, 'validation report') }),
      );
  },
});
