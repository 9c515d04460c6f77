import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { parseConfig } from '../core/config.js';
import { SluiceError } from '../core/errors.js';
import type { PipelineDocument } from './pipeline-schema.js';
import { TransformationSchema, ValidationRuleSchema } from './step-configs.js';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' });
const Common = {
  pipeline_id: Id,
  name: Type.Optional(Type.String({ maxLength: 256 })),
  description: Type.Optional(Type.String({ maxLength: 4096 })),
  schedule: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  source: Type.String({ minLength: 1, description: 'Connected datasource to extract from.' }),
  query: Type.Optional(Type.String({ minLength: 1 })),
  table: Type.Optional(Type.String({ minLength: 1 })),
  path: Type.Optional(Type.String({ minLength: 1 })),
};

const EtlBasicSchema = Type.Object(
  {
    ...Common,
    target: Type.String({ minLength: 1, description: 'Connected datasource to load into.' }),
    table_name: Type.Optional(Type.String({ minLength: 1, description: 'Target table (default: the pipeline id).' })),
    mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], { default: 'replace' }),
    transformations: Type.Array(TransformationSchema, { default: [] }),
  },
  { additionalProperties: false },
);

const QualitySchema = Type.Object(
  {
    ...Common,
    validation_rules: Type.Array(ValidationRuleSchema, { minItems: 1 }),
    fail_on_violation: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

function extractConfig(p: { source: string; query?: string; table?: string; path?: string }) {
  return {
    source: p.source,
    ...(p.query ? { query: p.query } : {}),
    ...(p.table ? { table: p.table } : {}),
    ...(p.path ? { path: p.path } : {}),
  };
}

function meta(p: Static<typeof EtlBasicSchema> | Static<typeof QualitySchema>, name: string) {
  return {
    pipeline_id: p.pipeline_id,
    name: p.name ?? name,
    ...(p.description ? { description: p.description } : {}),
    ...(p.schedule ? { schedule: p.schedule } : {}),
  };
}

interface Template<S extends TSchema> {
  description: string;
  schema: S;
  build(params: Static<S>): PipelineDocument;
}

function template<S extends TSchema>(t: Template<S>): Template<TSchema> {
  return t as unknown as Template<TSchema>;
}

/** Pipeline templates of the seed: `etl_basic` (extract → transform → load) and `data_quality_check`. */
export const TEMPLATES: Record<string, Template<TSchema>> = {
  etl_basic: template({
    description: 'Extract from a source, apply transformations, load into a target table.',
    schema: EtlBasicSchema,
    build: (p) => {
      const transform = p.transformations.length > 0;
      return {
        ...meta(p, 'Basic ETL'),
        steps: [
          { id: 'extract', name: `Extract from ${p.source}`, type: 'extract', config: extractConfig(p) },
          ...(transform
            ? [
                {
                  id: 'transform',
                  name: 'Transform',
                  type: 'transform' as const,
                  depends_on: ['extract'],
                  config: { input_step: 'extract', transformations: p.transformations },
                },
              ]
            : []),
          {
            id: 'load',
            name: `Load to ${p.target}`,
            type: 'load',
            depends_on: [transform ? 'transform' : 'extract'],
            config: {
              input_step: transform ? 'transform' : 'extract',
              target: p.target,
              table_name: p.table_name ?? p.pipeline_id,
              mode: p.mode,
            },
          },
        ],
      };
    },
  }),
  data_quality_check: template({
    description: 'Extract data and check validation rules (not_null, unique, range, pattern, allowed_values, row_count).',
    schema: QualitySchema,
    build: (p) => ({
      ...meta(p, 'Data Quality Validation'),
      steps: [
        { id: 'extract_data', name: 'Extract Data for Validation', type: 'extract', config: extractConfig(p) },
        {
          id: 'validate_quality',
          name: 'Validate Data Quality',
          type: 'validate',
          depends_on: ['extract_data'],
          config: { input_step: 'extract_data', validation_rules: p.validation_rules, fail_on_violation: p.fail_on_violation },
        },
      ],
    }),
  }),
};

/** Builds a pipeline document from a template and its parameters. */
export function fromTemplate(name: string, params: unknown): PipelineDocument {
  const t = TEMPLATES[name];
  if (!t) {
    throw new SluiceError('SLUICE_NOT_FOUND', `no template '${name}'`, {
      issues: [{ path: 'params.name', message: `unknown template (known: ${Object.keys(TEMPLATES).join(', ')})` }],
    });
  }
  return t.build(parseConfig(t.schema, params, 'body'));
}
