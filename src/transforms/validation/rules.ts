import { Type, type Static } from '@sinclair/typebox';
import { ExpressionString } from '../expression/schema.js';

const DataTypeName = Type.Union(['int', 'float', 'number', 'bool', 'date', 'timestamp', 'json', 'string'].map((t) => Type.Literal(t)));

/** One validation rule, as the seed's `validation_rules` entries. */
export const ValidationRule = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Reported name; defaults to `<type>_<index>`.' })),
    type: Type.Union(
      ['not_null', 'unique', 'range', 'regex', 'allowed_values', 'type', 'schema', 'expression'].map((t) => Type.Literal(t)),
    ),
    columns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    column: Type.Optional(Type.String({ minLength: 1 })),
    min_value: Type.Optional(Type.Number()),
    max_value: Type.Optional(Type.Number()),
    pattern: Type.Optional(Type.String({ description: 'Regular expression a value must match (regex).' })),
    values: Type.Optional(
      Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'Allowed values (allowed_values).' }),
    ),
    expected_type: Type.Optional(DataTypeName),
    schema: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), DataTypeName, { description: 'Required columns and their types (schema).' }),
    ),
    expression: Type.Optional(ExpressionString({ description: 'A condition every row must meet (expression).' })),
    action: Type.Optional(
      Type.Union([Type.Literal('fail'), Type.Literal('dead_letter'), Type.Literal('flag')], {
        default: 'flag',
        description:
          'fail: stop the run; dead_letter: move the row to the dead letters; flag: keep it, name the rule in `_validation_flags`.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ValidationRule = Static<typeof ValidationRule>;
export type DataTypeName = Static<typeof DataTypeName>;

/** Per-rule counts and the overall score of a validation run. */
export interface QualityReport {
  rows_checked: number;
  rows_passed: number;
  rows_failed: number;
  /** Passed rule checks over all rule checks (1 when nothing was checked). */
  data_quality_score: number;
  rules: { name: string; type: string; action: string; checked: number; passed: number; failed: number }[];
}
