import { Type } from '@sinclair/typebox';
import { SluiceError } from '../../../core/errors.js';
import { PipelineDocumentSchema, type PipelineDocument } from '../../../pipeline/pipeline-schema.js';
import { planPipeline } from '../../../pipeline/plan.js';
import { fromTemplate, TEMPLATES } from '../../../pipeline/templates.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { screenPipeline } from '../../screen-request.js';
import { checkCron } from '../../scheduler.js';
import { errors, JsonObject } from '../../schemas/common.js';
import { PipelineIdParams, PipelineView, RollbackBody, RunView } from '../../schemas/pipeline.js';
import type { PipelineRecord } from '../../state/pipeline-repository.js';
import { notFound } from '../../state/pipeline-repository.js';
import { runRoutes } from './runs.js';

/** Validates a document as the executor will run it, its schedule, and what its steps ask of datasources. */
async function check(cp: ControlPlane, document: unknown): Promise<PipelineDocument> {
  const plan = planPipeline(document);
  if (plan.document.schedule) checkCron(plan.document.schedule, 'body.schedule');
  await screenPipeline(cp, plan);
  return plan.document;
}

/** Pipelines: CRUD with versions, rollback, templates, and runs (see runs.ts). */
export async function pipelineRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const scheduleKey = (id: string) => `pipeline:${id}`;
  const view = (record: PipelineRecord) => ({ ...record, next_run: cp.scheduler.next(scheduleKey(record.pipeline_id)) });
  const schedule = (record: PipelineRecord) =>
    cp.scheduler.set(scheduleKey(record.pipeline_id), record.enabled ? record.schedule : null, () =>
      cp.runs.startScheduled(record.pipeline_id),
    );

  for (const record of await cp.state.pipelines.list()) schedule(record);

  app.post(
    '/pipelines',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['pipelines'],
        summary: 'Create a pipeline (the seed document, verbatim)',
        body: PipelineDocumentSchema,
        response: { 201: PipelineView, ...errors(409) },
      },
    },
    async (request, reply) => {
      const document = await check(cp, request.body);
      const record = await cp.state.pipelines.create(document, request.principal.actor);
      schedule(record);
      await request.audit('pipeline.create', `pipeline:${record.pipeline_id}`, { version: record.version });
      return reply.status(201).send(view(record));
    },
  );

  app.get(
    '/pipelines',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['pipelines'],
        summary: 'List pipelines',
        response: { 200: Type.Object({ pipelines: Type.Array(PipelineView) }), ...errors() },
      },
    },
    async () => ({ pipelines: (await cp.state.pipelines.list()).map(view) }),
  );

  app.get(
    '/pipelines/status',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['pipelines'],
        summary: 'Latest run of every pipeline, or of one',
        querystring: Type.Object(
          { pipeline_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            active_runs: Type.Integer(),
            pipelines: Type.Array(Type.Object({ pipeline_id: Type.String(), last_run: Type.Union([RunView, Type.Null()]) })),
          }),
          ...errors(404),
        },
      },
    },
    async (request) => {
      const id = request.query.pipeline_id;
      const pipelines = await cp.state.runs.latest(id);
      if (id && pipelines.length === 0) throw queryNotFound(id);
      return { active_runs: cp.runs.activeCount, pipelines };
    },
  );

  app.post(
    '/pipelines/template/:name',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['pipelines'],
        summary: `Create a pipeline from a template (${Object.keys(TEMPLATES).join(', ')})`,
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: JsonObject,
        response: { 201: PipelineView, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const document = await check(cp, fromTemplate(request.params.name, request.body));
      const record = await cp.state.pipelines.create(document, request.principal.actor);
      schedule(record);
      await request.audit('pipeline.create', `pipeline:${record.pipeline_id}`, { template: request.params.name, version: record.version });
      return reply.status(201).send(view(record));
    },
  );

  app.get(
    '/pipelines/:pipeline_id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['pipelines'],
        summary: 'A pipeline at its current version',
        params: PipelineIdParams,
        response: { 200: PipelineView, ...errors(404) },
      },
    },
    async (request) => view(await cp.state.pipelines.require(request.params.pipeline_id)),
  );

  app.put(
    '/pipelines/:pipeline_id',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['pipelines'],
        summary: 'Update a pipeline: stores a new version',
        params: PipelineIdParams,
        body: PipelineDocumentSchema,
        response: { 200: PipelineView, ...errors(404) },
      },
    },
    async (request) => {
      const id = request.params.pipeline_id;
      await cp.state.pipelines.require(id);
      if (request.body.pipeline_id !== id) {
        throw new SluiceError('SLUICE_CONFLICT', 'pipeline_id in the body differs from the URL', {
          issues: [{ path: 'body.pipeline_id', message: `must be '${id}'` }],
        });
      }
      const record = await cp.state.pipelines.addVersion(id, await check(cp, request.body), request.principal.actor);
      schedule(record);
      await request.audit('pipeline.update', `pipeline:${id}`, { version: record.version });
      return view(record);
    },
  );

  app.delete(
    '/pipelines/:pipeline_id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['pipelines'],
        summary: 'Delete a pipeline, its versions and runs',
        params: PipelineIdParams,
        response: { 200: Type.Object({ deleted: Type.String() }), ...errors(404, 409) },
      },
    },
    async (request) => {
      const id = request.params.pipeline_id;
      const latest = (await cp.state.runs.latest(id))[0]?.last_run;
      if (latest && (latest.status === 'running' || latest.status === 'queued')) {
        throw new SluiceError('SLUICE_CONFLICT', `pipeline '${id}' has a run in progress; cancel it first`, {
          issues: [{ path: 'params.pipeline_id', message: 'run in progress' }],
        });
      }
      if (!(await cp.state.pipelines.delete(id))) throw notFound(id);
      cp.scheduler.remove(scheduleKey(id));
      await request.audit('pipeline.delete', `pipeline:${id}`);
      return { deleted: id };
    },
  );

  app.get(
    '/pipelines/:pipeline_id/versions',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['pipelines'],
        summary: 'Every version of a pipeline',
        params: PipelineIdParams,
        response: {
          200: Type.Object({
            versions: Type.Array(
              Type.Object({
                version: Type.Integer(),
                created_by: Type.Union([Type.String(), Type.Null()]),
                created_at: Type.String(),
                document: JsonObject,
              }),
            ),
          }),
          ...errors(404),
        },
      },
    },
    async (request) => ({ versions: await cp.state.pipelines.versions(request.params.pipeline_id) }),
  );

  app.post(
    '/pipelines/:pipeline_id/rollback',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['pipelines'],
        summary: "Make an earlier version's document current (as a new version)",
        params: PipelineIdParams,
        body: RollbackBody,
        response: { 200: PipelineView, ...errors(404) },
      },
    },
    async (request) => {
      const id = request.params.pipeline_id;
      await cp.state.pipelines.require(id);
      const old = await cp.state.pipelines.version(id, request.body.version);
      const record = await cp.state.pipelines.addVersion(id, old.document, request.principal.actor);
      schedule(record);
      await request.audit('pipeline.rollback', `pipeline:${id}`, { to: request.body.version, version: record.version });
      return view(record);
    },
  );

  await runRoutes(app, cp);
}

function queryNotFound(id: string): SluiceError {
  return new SluiceError('SLUICE_NOT_FOUND', `no pipeline '${id}'`, {
    issues: [{ path: 'querystring.pipeline_id', message: 'pipeline not found' }],
  });
}
