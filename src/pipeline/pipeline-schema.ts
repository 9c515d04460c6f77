import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' });

export const StepTypeSchema = Type.Union(
  [
    Type.Literal('extract'),
    Type.Literal('transform'),
    Type.Literal('load'),
    Type.Literal('validate'),
    Type.Literal('sync'),
    Type.Literal('custom'),
  ],
  { description: 'What the step does; its `config` follows the schema of that type.' },
);

export const StepSchema = Type.Object(
  {
    id: { ...Id, description: 'Unique within the pipeline; `depends_on` and `input_step` refer to it.' },
    name: Type.Optional(Type.String({ maxLength: 256 })),
    type: StepTypeSchema,
    depends_on: Type.Optional(Type.Array(Id, { maxItems: 64, description: 'Steps that must complete first.' })),
    config: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
    retries: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10, description: 'Retries of a failed attempt (default: the pipeline setting).' }),
    ),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'Time limit of one attempt.' })),
  },
  { additionalProperties: false },
);

export const PipelineSettingsSchema = Type.Object(
  {
    max_parallel: Type.Integer({ minimum: 1, maximum: 32, default: 2, description: 'Independent steps run at once.' }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 2,
      description: 'Retries of a failed step attempt, with exponential backoff.',
    }),
    timeout_ms: Type.Integer({ minimum: 100, maximum: 86_400_000, default: 3_600_000, description: 'Time limit of one step attempt.' }),
    batch_size: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000, description: 'Rows per batch between steps.' }),
    max_concurrent_runs: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'Runs of the pipeline active at once; a manual run beyond it is refused (409), a scheduled one skipped.',
    }),
    abort_grace_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 5_000,
      description:
        'How long a step stopped by cancel, timeout or shutdown may take to wind down before it is abandoned (what it staged is not published).',
    }),
  },
  { additionalProperties: false },
);

/** A pipeline document as the seed writes it: `pipeline_id`, `steps` with `depends_on`. */
export const PipelineDocumentSchema = Type.Object(
  {
    pipeline_id: { ...Id, description: 'Unique pipeline id.' },
    name: Type.Optional(Type.String({ maxLength: 256 })),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    steps: Type.Array(StepSchema, { minItems: 1, maxItems: 256 }),
    enabled: Type.Optional(Type.Boolean({ description: 'Disabled pipelines keep their schedule but do not run on it.' })),
    schedule: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'Cron expression (croner syntax) for scheduled runs.',
        examples: ['0 */6 * * *'],
      }),
    ),
    settings: Type.Optional(PipelineSettingsSchema),
  },
  { additionalProperties: false },
);

export type PipelineDocument = Static<typeof PipelineDocumentSchema>;
export type StepSpec = Static<typeof StepSchema>;
export type StepType = Static<typeof StepTypeSchema>;
export type PipelineSettings = Static<typeof PipelineSettingsSchema>;
