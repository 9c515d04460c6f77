import type { Logger } from '../../../core/logger.js';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { SluiceError } from '../../../core/errors.js';
import { executePipeline } from '../../../pipeline/executor.js';
import { planPipeline } from '../../../pipeline/plan.js';
import { readOutput } from '../../../pipeline/steps/read-output.js';
import { TransformationSchema } from '../../../pipeline/step-configs.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { errors, JsonObject } from '../../schemas/common.js';
import { jsonRows } from '../data/json-rows.js';

const ApplyBody = Type.Object(
  {
    source_name: Type.String({ minLength: 1, maxLength: 128 }),
    transformations: Type.Array(TransformationSchema, { minItems: 1, maxItems: 64 }),
    query: Type.Optional(Type.String({ minLength: 1 })),
    table: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1 })),
    output_source: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'A connected datasource to write the result to.' })),
    output_table: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], { default: 'append' }),
    preview_rows: Type.Integer({ minimum: 0, maximum: 10_000, default: 100, description: 'Rows of the result returned in the response.' }),
  },
  { additionalProperties: false },
);

interface Stats {
  total_transformations: number;
  successful: number;
  failed: number;
  rows_processed: number;
  total_processing_ms: number;
  by_type: Record<string, number>;
}

/** Applies transformation chains to a datasource (optionally writing the result) and keeps statistics. */
export async function transformRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const stats: Stats = { total_transformations: 0, successful: 0, failed: 0, rows_processed: 0, total_processing_ms: 0, by_type: {} };

  app.post(
    '/transform/apply',
    {
      config: { access: 'operator' },
      schema: { tags: ['transform'], summary: 'Apply transformations to a datasource', body: ApplyBody, response: { 200: Type.Object({ rows_in: Type.Number(), rows_out: Type.Number(), output_source: Type.Optional(Type.String()), preview: Type.Array(JsonObject), duration_ms: Type.Number() }), ...errors(404, 422) } },
    },
    async (request) => {
      const body = request.body;
      await cp.state.datasources.resolve(body.source_name);
      if (body.output_source) await cp.state.datasources.resolve(body.output_source).catch(() => Promise.reject(outputNotFound(body.output_source!)));
      const plan = planPipeline(
        {
          pipeline_id: 'transform-apply',
          steps: [
            { id: 'extract', type: 'extract', config: { source: body.source_name, ...(body.query ? { query: body.query } : {}), ...(body.table ? { table: body.table } : {}), ...(body.path ? { path: body.path } : {}) } },
            { id: 'transform', type: 'transform', depends_on: ['extract'], config: { transformations: body.transformations } },
            ...(body.output_source
              ? [{ id: 'load', type: 'load', depends_on: ['transform'], config: { target: body.output_source, mode: body.mode, ...(body.output_table ? { table_name: body.output_table } : {}) } }]
              : []),
          ],
          settings: { retries: 0 },
        },
        'body',
      );
      const runId = randomUUID();
      const runDir = join(cp.workDir, 'runs', runId);
      const started = Date.now();
      try {
        const result = await executePipeline(plan, { runId, runDir, signal: AbortSignal.timeout(600_000), logger: request.log as unknown as Logger, resolveDatasource: (n) => cp.state.datasources.resolve(n), keepRunDir: true });
        const duration = Date.now() - started;
        stats.total_transformations += body.transformations.length;
        stats.total_processing_ms += duration;
        for (const t of body.transformations) stats.by_type[t.type] = (stats.by_type[t.type] ?? 0) + 1;
        if (result.status !== 'completed') {
          stats.failed++;
          throw new SluiceError('SLUICE_RECORD_INVALID', result.error ?? 'transformation failed', { issues: [{ path: 'body.transformations', message: result.error ?? 'failed' }] });
        }
        stats.successful++;
        const rowsIn = result.steps.get('extract')!.outcome!.rows;
        const rowsOut = result.steps.get('transform')!.outcome!.rows;
        stats.rows_processed += rowsIn;
        const preview: Record<string, unknown>[] = [];
        for await (const batch of readOutput(join(runDir, 'transform'))) {
          if (preview.length >= body.preview_rows) break;
          preview.push(...jsonRows(batch).slice(0, body.preview_rows - preview.length));
        }
        if (body.output_source) await request.audit('transform.apply', `datasource:${body.output_source}`, { source: body.source_name, rows: rowsOut });
        return { rows_in: rowsIn, rows_out: rowsOut, ...(body.output_source ? { output_source: body.output_source } : {}), preview, duration_ms: duration };
      } finally {
        await rm(runDir, { recursive: true, force: true });
      }
    },
  );

  app.get(
    '/transform/stats',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['transform'],
        summary: 'Statistics of transformations applied since the server started',
        response: { 200: Type.Object({ total_transformations: Type.Integer(), successful: Type.Integer(), failed: Type.Integer(), success_rate: Type.Number(), rows_processed: Type.Number(), average_processing_time_ms: Type.Number(), by_type: Type.Record(Type.String(), Type.Integer()) }), ...errors() },
      },
    },
    async () => {
      const calls = stats.successful + stats.failed;
      return { ...stats, success_rate: calls > 0 ? stats.successful / calls : 0, average_processing_time_ms: calls > 0 ? stats.total_processing_ms / calls : 0 };
    },
  );
}

function outputNotFound(name: string): SluiceError {
  return new SluiceError('SLUICE_NOT_FOUND', `no datasource '${name}'`, { issues: [{ path: 'body.output_source', message: 'datasource not found' }] });
}
