import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { StepType } from './pipeline-schema.js';

const StepRef = Type.String({ minLength: 1, description: 'The step whose output this step reads (default: its only dependency).' });

export const ExtractConfigSchema = Type.Object(
  {
    source: Type.String({ minLength: 1, description: 'Name of a connected datasource.' }),
    query: Type.Optional(Type.String({ minLength: 1 })),
    table: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1 })),
    params: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'More source config of the datasource type.' })),
  },
  { additionalProperties: false },
);

export const TransformationSchema = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'A registered transform type (clean, normalize, filter, map...).' }),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    rule_id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    priority: Type.Optional(Type.Number({ description: 'Lower runs first; entries without one run after, in list order.' })),
    enabled: Type.Optional(Type.Boolean({ description: 'False skips the entry.' })),
  },
  { additionalProperties: false },
);

export const TransformConfigSchema = Type.Object(
  {
    input_step: Type.Optional(StepRef),
    transformations: Type.Array(TransformationSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const LoadConfigSchema = Type.Object(
  {
    input_step: Type.Optional(StepRef),
    target: Type.String({ minLength: 1, description: 'Name of a connected datasource.' }),
    table_name: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], {
      default: 'append',
      description: 'replace is atomic: a failed run leaves the target as it was.',
    }),
    key: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'upsert: key columns.' })),
    create_table: Type.Boolean({ default: true, description: 'Create a missing table from the data.' }),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'More sink config of the datasource type.' })),
  },
  { additionalProperties: false },
);

export const ValidationRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.Union([
      Type.Literal('not_null'),
      Type.Literal('unique'),
      Type.Literal('range'),
      Type.Literal('pattern'),
      Type.Literal('allowed_values'),
      Type.Literal('row_count'),
    ]),
    columns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    column: Type.Optional(Type.String({ minLength: 1 })),
    min_value: Type.Optional(Type.Number()),
    max_value: Type.Optional(Type.Number()),
    pattern: Type.Optional(Type.String()),
    values: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  },
  { additionalProperties: false },
);

export const ValidateConfigSchema = Type.Object(
  {
    input_step: Type.Optional(StepRef),
    validation_rules: Type.Array(ValidationRuleSchema, { minItems: 1 }),
    fail_on_violation: Type.Boolean({
      default: false,
      description: 'Fail the step (and the run) when a rule is violated; by default the report is the result.',
    }),
  },
  { additionalProperties: false },
);

export const SyncConfigSchema = Type.Object({ rule_id: Type.String({ minLength: 1 }) }, { additionalProperties: true });

export const CustomConfigSchema = Type.Object(
  {
    function: Type.String({ minLength: 1, description: 'Name given to registerCustomStep in code.' }),
    input_step: Type.Optional(StepRef),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const STEP_CONFIG_SCHEMAS: Record<StepType, TSchema> = {
  extract: ExtractConfigSchema,
  transform: TransformConfigSchema,
  load: LoadConfigSchema,
  validate: ValidateConfigSchema,
  sync: SyncConfigSchema,
  custom: CustomConfigSchema,
};

export type ExtractConfig = Static<typeof ExtractConfigSchema>;
export type TransformConfig = Static<typeof TransformConfigSchema>;
export type LoadConfig = Static<typeof LoadConfigSchema>;
export type ValidateConfig = Static<typeof ValidateConfigSchema>;
export type ValidationRule = Static<typeof ValidationRuleSchema>;
export type CustomConfig = Static<typeof CustomConfigSchema>;
