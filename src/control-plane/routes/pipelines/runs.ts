import { Type } from '@sinclair/typebox';
import { planPipeline } from '../../../pipeline/plan.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { screenPipeline } from '../../screen-request.js';
import type { RunEvent } from '../../run-manager.js';
import { runNotFound } from '../../run-manager.js';
import { errors } from '../../schemas/common.js';
import { PipelineIdParams, RunIdParams, RunView } from '../../schemas/pipeline.js';

const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled', 'interrupted']);

/** Pipeline runs: start (background), list, status, cancel, live progress over SSE. */
export async function runRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  app.post(
    '/pipelines/:pipeline_id/run',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['runs'],
        summary: 'Start a run in the background (409 while the pipeline has max_concurrent_runs runs in progress)',
        params: PipelineIdParams,
        response: { 202: RunView, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      // A stored document is screened again: its datasources may have changed since.
      const pipeline = await cp.state.pipelines.require(request.params.pipeline_id);
      await screenPipeline(cp, planPipeline(pipeline.document, 'pipeline'), 'pipeline');
      const run = await cp.runs.start(request.params.pipeline_id, `api:${request.principal.actor}`);
      await request.audit('pipeline.run', `pipeline:${run.pipeline_id}`, { run_id: run.run_id, version: run.version });
      return reply.status(202).header('location', `/api/v1/pipelines/runs/${run.run_id}`).send(run);
    },
  );

  app.get(
    '/pipelines/:pipeline_id/runs',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'Runs of a pipeline, newest first',
        params: PipelineIdParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ runs: Type.Array(RunView) }), ...errors(404) },
      },
    },
    async (request) => {
      await cp.state.pipelines.require(request.params.pipeline_id);
      return { runs: await cp.state.runs.list(request.params.pipeline_id, request.query.limit) };
    },
  );

  app.get(
    '/pipelines/runs/:run_id',
    {
      config: { access: 'viewer' },
      schema: { tags: ['runs'], summary: 'A run with its step results', params: RunIdParams, response: { 200: RunView, ...errors(404) } },
    },
    async (request) => {
      const run = await cp.state.runs.get(request.params.run_id);
      if (!run) throw runNotFound(request.params.run_id);
      return run;
    },
  );

  app.post(
    '/pipelines/runs/:run_id/cancel',
    {
      config: { access: 'operator' },
      schema: { tags: ['runs'], summary: 'Cancel a run in progress', params: RunIdParams, response: { 200: RunView, ...errors(404, 409) } },
    },
    async (request) => {
      await cp.runs.cancel(request.params.run_id);
      const run = (await cp.state.runs.get(request.params.run_id))!;
      await request.audit('pipeline.cancel', `pipeline:${run.pipeline_id}`, { run_id: run.run_id });
      return run;
    },
  );

  app.get(
    '/pipelines/runs/:run_id/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'Live progress as Server-Sent Events: a snapshot, then step/progress/run events until the run ends',
        params: RunIdParams,
        produces: ['text/event-stream'],
        response: { ...errors(404) },
      },
    },
    async (request, reply) => {
      const runId = request.params.run_id;
      const snapshot = await cp.state.runs.get(runId);
      if (!snapshot) throw runNotFound(runId);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': request.id,
      });
      const send = (event: string, data: unknown) => out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('snapshot', snapshot);
      const finish = () => {
        unsubscribe?.();
        out.end();
      };
      const unsubscribe = TERMINAL.has(snapshot.status)
        ? undefined
        : cp.runs.subscribe(runId, (event: RunEvent) => send(event.type, event), finish);
      if (!unsubscribe) {
        // Finished (or finished between the snapshot and now): the final state is all there is.
        const final = TERMINAL.has(snapshot.status) ? snapshot : await cp.state.runs.get(runId);
        send('run', { type: 'run', status: final!.status, ...(final!.error ? { error: final!.error } : {}) });
        out.end();
        return;
      }
      request.raw.on('close', () => unsubscribe());
    },
  );
}
