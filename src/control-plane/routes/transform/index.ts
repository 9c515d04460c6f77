import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../../../core/logger.js';
import { SluiceError } from '../../../core/errors.js';
import { LoadConfigSchema, TransformationSchema, type LoadConfig } from '../../../pipeline/step-configs.js';
import { extractSourceConfig, loadSinkConfig, requestTransformations } from '../../../pipeline/steps/connector-configs.js';
import { applyTransforms } from '../../../transforms/apply-transforms.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { findDatasource } from '../../screen-request.js';
import { errors, JsonObject } from '../../schemas/common.js';
import { readBatches, writeBatches } from '../data/datasource-io.js';
import { jsonRows } from '../data/json-rows.js';

const ApplyBody = Type.Object(
  {
    source_name: Type.String({ minLength: 1, maxLength: 128 }),
    transformations: Type.Array(TransformationSchema, { minItems: 1, maxItems: 64 }),
    query: Type.Optional(Type.String({ minLength: 1 })),
    table: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1 })),
    limit: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 100_000,
      description: 'Rows read from the source at most (for larger data, run a pipeline).',
    }),
    output_source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'A connected datasource to write the result to.' }),
    ),
    output_table: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], { default: 'append' }),
    preview_rows: Type.Integer({ minimum: 0, maximum: 10_000, default: 100, description: 'Rows of the result returned in the response.' }),
  },
  { additionalProperties: false },
);

interface Totals {
  calls: number;
  successful: number;
  failed: number;
  total_transformations: number;
  rows_processed: number;
  total_processing_ms: number;
  by_type: Record<string, number>;
}

/** Applies transformation lists to a datasource's rows (optionally writing the result) and keeps statistics. */
export async function transformRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const totals: Totals = {
    calls: 0,
    successful: 0,
    failed: 0,
    total_transformations: 0,
    rows_processed: 0,
    total_processing_ms: 0,
    by_type: {},
  };

  app.post(
    '/transform/apply',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['transform'],
        summary: 'Apply transformations (in priority order) to a datasource; per-transformation statistics, validation and profile reports',
        body: ApplyBody,
        response: {
          200: Type.Object({
            rows_in: Type.Number(),
            rows_out: Type.Number(),
            output_source: Type.Optional(Type.String()),
            stats: Type.Array(JsonObject),
            dead_letters: Type.Number(),
            preview: Type.Array(JsonObject),
            duration_ms: Type.Number(),
          }),
          ...errors(404, 422),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const logger = request.log as unknown as Logger;
      const source = await cp.state.datasources.resolve(body.source_name);
      const target = body.output_source
        ? await cp.state.datasources
            .resolve(body.output_source)
            .catch(() => Promise.reject(datasourceNotFound(body.output_source!, 'body.output_source')))
        : undefined;
      const started = performance.now();
      totals.calls++;
      let result;
      let sinkConfig;
      try {
        const sourceConfig = await extractSourceConfig(source, { query: body.query, table: body.table, path: body.path }, 'body');
        const transformations = await requestTransformations(body.transformations, 'body.transformations', (name, at) =>
          findDatasource(cp, name).then((ds) => ds ?? Promise.reject(datasourceNotFound(name, at))),
        );
        sinkConfig = target
          ? await loadSinkConfig(
              target,
              Value.Default(LoadConfigSchema, {
                target: body.output_source,
                mode: body.mode,
                ...(body.output_table ? { table_name: body.output_table } : {}),
              }) as LoadConfig,
              'body',
            )
          : undefined;
        const input = await readBatches(source, sourceConfig, body.limit, logger);
        result = await applyTransforms(input, transformations, { logger });
      } catch (error) {
        totals.failed++;
        if (error instanceof SluiceError && error.issues.length === 0 && error.httpStatus < 500) {
          throw new SluiceError(error.code, error.message, {
            cause: error,
            issues: [{ path: 'body.transformations', message: error.message }],
          });
        }
        throw error;
      }
      if (target && sinkConfig) {
        await writeBatches(target, sinkConfig, result.batches, logger, 'body.output_source');
        await request.audit('transform.apply', `datasource:${body.output_source}`, {
          source: body.source_name,
          rows: result.stats.at(-1)?.rows_out,
        });
      }
      const duration = performance.now() - started;
      totals.successful++;
      totals.total_processing_ms += duration;
      for (const s of result.stats) {
        totals.total_transformations++;
        totals.by_type[s.type] = (totals.by_type[s.type] ?? 0) + 1;
      }
      const rowsIn = result.stats[0]?.rows_in ?? 0;
      totals.rows_processed += rowsIn;
      const preview = result.batches
        .flatMap((b) => (body.preview_rows > 0 ? jsonRows(b.slice(0, body.preview_rows)) : []))
        .slice(0, body.preview_rows);
      return {
        rows_in: rowsIn,
        rows_out: result.batches.reduce((n, b) => n + b.numRows, 0),
        ...(body.output_source ? { output_source: body.output_source } : {}),
        stats: result.stats as unknown as Record<string, unknown>[],
        dead_letters: result.deadLetters.length,
        preview,
        duration_ms: duration,
      };
    },
  );

  app.get(
    '/transform/stats',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['transform'],
        summary: 'Statistics of transformations applied since the server started',
        response: {
          200: Type.Object({
            total_transformations: Type.Integer(),
            successful: Type.Integer(),
            failed: Type.Integer(),
            success_rate: Type.Number(),
            rows_processed: Type.Number(),
            average_processing_time_ms: Type.Number(),
            by_type: Type.Record(Type.String(), Type.Integer()),
          }),
          ...errors(),
        },
      },
    },
    async () => ({
      total_transformations: totals.total_transformations,
      successful: totals.successful,
      failed: totals.failed,
      success_rate: totals.calls > 0 ? totals.successful / totals.calls : 0,
      rows_processed: totals.rows_processed,
      average_processing_time_ms: totals.successful > 0 ? totals.total_processing_ms / totals.successful : 0,
      by_type: totals.by_type,
    }),
  );
}

function datasourceNotFound(name: string, at: string): SluiceError {
  return new SluiceError('SLUICE_NOT_FOUND', `no datasource '${name}'`, { issues: [{ path: at, message: 'datasource not found' }] });
}
