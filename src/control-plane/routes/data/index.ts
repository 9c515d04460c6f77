import type { Logger } from '../../../core/logger.js';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { RecordBatch } from 'apache-arrow';
import { recordBatchFromRows } from '../../../core/batch.js';
import { SluiceError, errorMessage } from '../../../core/errors.js';
import { LoadConfigSchema } from '../../../pipeline/step-configs.js';
import { extractSourceConfig, loadSinkConfig } from '../../../pipeline/steps/connector-configs.js';
import type { ResolvedDatasource } from '../../../pipeline/steps/step-context.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { errors, JsonObject } from '../../schemas/common.js';
import { readBatches, writeRows } from './datasource-io.js';
import { columnsOf, jsonRows } from './json-rows.js';
import { profileTable } from '../../../transforms/profile/profiler.js';

const SourceSelect = {
  source_name: Type.String({ minLength: 1, maxLength: 128, description: 'A connected datasource.' }),
  query: Type.Optional(Type.String({ minLength: 1 })),
  table: Type.Optional(Type.String({ minLength: 1 })),
  table_name: Type.Optional(Type.String({ minLength: 1, description: 'Alias of `table`.' })),
  path: Type.Optional(Type.String({ minLength: 1 })),
  params: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
};

const ReadBody = Type.Object(
  { ...SourceSelect, limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }) },
  { additionalProperties: false },
);
const WriteBody = Type.Object(
  {
    source_name: SourceSelect.source_name,
    data: Type.Array(JsonObject, { minItems: 1, maxItems: 100_000, description: 'Rows to write.' }),
    table_name: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], { default: 'append' }),
    key: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);
const ProfileBody = Type.Object(
  {
    ...SourceSelect,
    filters: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
        Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
        { description: 'Column equals value; rows that differ are left out.' },
      ),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100_000, description: 'Rows profiled at most.' }),
  },
  { additionalProperties: false },
);

/** Data operations of the seed: read, write and profile a connected datasource. */
export async function dataRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const sourceConfig = (
    ds: ResolvedDatasource,
    body: { query?: string; table?: string; table_name?: string; path?: string; params?: Array<string | number | boolean | null> },
  ) => extractSourceConfig(ds, { query: body.query, table: body.table ?? body.table_name, path: body.path, params: body.params }, 'body');

  app.post(
    '/data/read',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['data'],
        summary: 'Read rows from a datasource',
        body: ReadBody,
        response: {
          200: Type.Object({
            count: Type.Integer(),
            columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), nullable: Type.Boolean() })),
            rows: Type.Array(JsonObject),
          }),
          ...errors(404),
        },
      },
    },
    async (request) => {
      const ds = await cp.state.datasources.resolve(request.body.source_name);
      const batches = await readBatches(
        ds,
        await sourceConfig(ds, request.body),
        request.body.limit,
        request.log as unknown as Logger,
        fieldOf(request.body),
      );
      const rows = batches.flatMap(jsonRows);
      return { count: rows.length, columns: batches[0] ? columnsOf(batches[0]) : [], rows };
    },
  );

  app.post(
    '/data/write',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['data'],
        summary: 'Write rows to a datasource',
        body: WriteBody,
        response: { 200: Type.Object({ written: Type.Integer(), source_name: Type.String() }), ...errors(404) },
      },
    },
    async (request) => {
      const { source_name, data, ...target } = request.body;
      const ds = await cp.state.datasources.resolve(source_name);
      const load = Value.Default(LoadConfigSchema, { target: source_name, ...target }) as Parameters<typeof loadSinkConfig>[1];
      let written: number;
      try {
        written = await writeRows(ds, await loadSinkConfig(ds, load, 'body'), data, request.log as unknown as Logger);
      } catch (error) {
        if (error instanceof SluiceError) throw error;
        throw new SluiceError('SLUICE_RECORD_INVALID', `rows could not be converted: ${errorMessage(error)}`, {
          issues: [{ path: 'body.data', message: errorMessage(error) }],
        });
      }
      await request.audit('data.write', `datasource:${source_name}`, { rows: written, table_name: target.table_name, mode: target.mode });
      return { written, source_name };
    },
  );

  app.post(
    '/data/profile',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['data'],
        summary: 'Profile the columns of a datasource',
        body: ProfileBody,
        response: {
          200: Type.Object({ row_count: Type.Integer(), duplicate_rows: Type.Integer(), columns: Type.Array(Type.Unknown()) }),
          ...errors(404),
        },
      },
    },
    async (request) => {
      const ds = await cp.state.datasources.resolve(request.body.source_name);
      const batches = await readBatches(
        ds,
        await sourceConfig(ds, request.body),
        request.body.limit,
        request.log as unknown as Logger,
        fieldOf(request.body),
      );
      const filters = Object.entries(request.body.filters ?? {});
      const kept = filters.length === 0 ? batches : batches.map((b) => keepMatching(b, filters));
      return profileTable(kept);
    },
  );
}

/** The field a read failure is most likely about. */
function fieldOf(body: { query?: string; path?: string; table?: string; table_name?: string }): string {
  if (body.query) return 'body.query';
  if (body.path) return 'body.path';
  if (body.table || body.table_name) return body.table ? 'body.table' : 'body.table_name';
  return 'body.source_name';
}

/** The rows of a batch whose columns equal the filter values. */
function keepMatching(batch: RecordBatch, filters: Array<[string, unknown]>): RecordBatch {
  const rows = jsonRows(batch).filter((row) => filters.every(([name, value]) => row[name] === value));
  return rows.length === batch.numRows ? batch : rows.length === 0 ? batch.slice(0, 0) : recordBatchFromRows(rows);
}
