import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBatchFromRows } from '../../src/core/batch.js';
import { buildApp, type SluiceApp } from '../../src/control-plane/app.js';
import { registerCustomStep } from '../../src/pipeline/steps/custom.js';
import { gate, memorySink } from '../support/memory-connector.js';
import { startSluice } from '../support/cli.js';
import { auth, BACKENDS, KEYS, startServer, waitForRun, type TestServer } from './helpers.js';

describe.each(BACKENDS)('runs: cancel, conflicts, shutdown and cron schedules (%s state)', (backend) => {
  let server: TestServer;
  const inject = (method: string, url: string, payload?: object) =>
    server.app.inject({ method: method as 'GET', url, payload, headers: auth('admin') });

  beforeAll(async () => {
    server = await startServer(backend);
    registerCustomStep(
      'block-until-cancel',
      ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined))),
    );
    registerCustomStep('noop', async () => ({ ok: true }));
    registerCustomStep('one-row', async function* () {
      yield recordBatchFromRows([{ id: 1 }]);
    });
  });

  const stepStatuses = (run: { steps: Array<{ step_id: string; status: string }> }) =>
    Object.fromEntries(run.steps.map((s) => [s.step_id, s.status]));

  /** A load into a memory sink whose writes never end and ignore their abort signal. */
  const stuckLoad = async (pipelineId: string) => {
    const sink = memorySink(`${pipelineId}-${backend}`);
    sink.gate = gate().promise;
    await inject('POST', '/api/v1/datasources/connect', {
      name: pipelineId,
      type: 'memory',
      config: { id: `${pipelineId}-${backend}` },
      test_connection: false,
    });
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: pipelineId,
      settings: { abort_grace_ms: 200 },
      steps: [
        { id: 'gen', type: 'custom', config: { function: 'one-row' } },
        { id: 'load', type: 'load', depends_on: ['gen'], config: { input_step: 'gen', target: pipelineId, mode: 'replace' } },
      ],
    });
    const runId = (await inject('POST', `/api/v1/pipelines/${pipelineId}/run`)).json().run_id as string;
    while (sink.signals.length === 0) await new Promise((r) => setTimeout(r, 10));
    return { runId, sink };
  };
  afterAll(() => server?.close());

  it('cancels a run in progress over REST; a finished run cannot be cancelled; a pipeline with a run in progress cannot be deleted', async () => {
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'blocking',
      steps: [
        { id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } },
        { id: 'after', type: 'custom', depends_on: ['wait'], config: { function: 'noop' } },
      ],
    });
    const runId = (await inject('POST', '/api/v1/pipelines/blocking/run')).json().run_id;
    for (let i = 0; i < 100 && (await inject('GET', `/api/v1/pipelines/runs/${runId}`)).json().status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 20));
    const busy = await inject('DELETE', '/api/v1/pipelines/blocking');
    expect(busy.statusCode).toBe(409);
    const cancelled = await inject('POST', `/api/v1/pipelines/runs/${runId}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect(Object.fromEntries(cancelled.json().steps.map((s: { step_id: string; status: string }) => [s.step_id, s.status]))).toEqual({
      wait: 'cancelled',
      after: 'cancelled',
    });
    const again = await inject('POST', `/api/v1/pipelines/runs/${runId}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.issues[0].path).toBe('params.run_id');
    expect((await inject('DELETE', '/api/v1/pipelines/blocking')).statusCode).toBe(200);
    expect((await inject('GET', `/api/v1/pipelines/runs/${runId}`)).statusCode).toBe(404);
  });

  it('cancel over REST returns cancelled within the grace when the sink ignores its abort signal', async () => {
    const { runId, sink } = await stuckLoad('stuck-cancel');
    const cancelled = await inject('POST', `/api/v1/pipelines/runs/${runId}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect(stepStatuses(cancelled.json())).toEqual({ gen: 'completed', load: 'cancelled' });
    expect(cancelled.json().steps.find((s: { step_id: string }) => s.step_id === 'load').error).toContain('did not stop within 200 ms');
    expect(sink.signals[0]?.aborted).toBe(true);
    expect(sink.finished).toBeUndefined();
    // The abandoned run no longer counts as active: the pipeline runs again.
    const again = await inject('POST', '/api/v1/pipelines/stuck-cancel/run');
    expect(again.statusCode).toBe(202);
    expect((await inject('POST', `/api/v1/pipelines/runs/${again.json().run_id}/cancel`)).json().status).toBe('cancelled');
  });

  it('a server shutting down stops a run whose sink ignores its abort signal, within the grace', async () => {
    const { runId, sink } = await stuckLoad('stuck-shutdown');
    await server.restart();
    const run = (await inject('GET', `/api/v1/pipelines/runs/${runId}`)).json();
    expect(run.status).toBe('interrupted');
    expect(stepStatuses(run)).toEqual({ gen: 'completed', load: 'interrupted' });
    expect(sink.signals[0]?.aborted).toBe(true);
  });

  it('a pipeline has one active run: a second start is refused with 409, also when both arrive at once', async () => {
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'single',
      steps: [{ id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } }],
    });
    // Two control planes over one state database race for the run (PGlite is one process: two requests).
    let other: SluiceApp | undefined;
    if (backend === 'postgresql') other = await buildApp({ ...server.options, stateDir: mkdtempSync(join(tmpdir(), 'sluice-cp-other-')) });
    try {
      const post = (app: SluiceApp) => app.inject({ method: 'POST', url: '/api/v1/pipelines/single/run', headers: auth('operator') });
      const answers = await Promise.all([post(server.app), post(other ?? server.app)]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
      const started = answers.find((a) => a.statusCode === 202)!.json();
      const refused = answers.find((a) => a.statusCode === 409)!.json();
      expect(refused.error.code).toBe('SLUICE_CONFLICT');
      expect(refused.error.message).toContain(`pipeline 'single' already has a run in progress (${started.run_id})`);
      expect(refused.error.issues).toEqual([{ path: 'params.pipeline_id', message: 'max_concurrent_runs is 1; 1 run active' }]);
      expect((await inject('GET', '/api/v1/pipelines/single/runs')).json().runs).toHaveLength(1);

      // Once the run ended, the next one starts.
      const owner = answers[0].statusCode === 202 ? server.app : (other ?? server.app);
      await owner.inject({ method: 'POST', url: `/api/v1/pipelines/runs/${started.run_id}/cancel`, headers: auth('operator') });
      const next = await inject('POST', '/api/v1/pipelines/single/run');
      expect(next.statusCode).toBe(202);
      await inject('POST', `/api/v1/pipelines/runs/${next.json().run_id}/cancel`);
    } finally {
      await other?.close();
    }
  });

  it('max_concurrent_runs lets that many runs of a pipeline go at once', async () => {
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'pair',
      settings: { max_concurrent_runs: 2 },
      steps: [{ id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } }],
    });
    const answers = await Promise.all([1, 2, 3].map(() => inject('POST', '/api/v1/pipelines/pair/run')));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 202, 409]);
    expect(answers.find((a) => a.statusCode === 409)!.json().error.issues[0].message).toBe('max_concurrent_runs is 2; 2 runs active');
    for (const a of answers.filter((a) => a.statusCode === 202)) await inject('POST', `/api/v1/pipelines/runs/${a.json().run_id}/cancel`);
  });

  it('a cron tick that finds the pipeline running is skipped, logged and counted', async () => {
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'busy-cron',
      schedule: '* * * * * *',
      steps: [{ id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } }],
    });
    const skipped = async () => {
      const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(/^sluice_pipeline_runs_refused_total\{pipeline="busy-cron",trigger="schedule"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    for (let i = 0; i < 100 && (await skipped()) < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await skipped()).toBeGreaterThanOrEqual(2);
    const runs = (await inject('GET', '/api/v1/pipelines/busy-cron/runs')).json().runs;
    expect(runs).toHaveLength(1);
    expect(runs[0].trigger).toBe('schedule');
    const { schedule: _schedule, ...unscheduled } = (await inject('GET', '/api/v1/pipelines/busy-cron')).json().document;
    await inject('PUT', '/api/v1/pipelines/busy-cron', unscheduled);
    await inject('POST', `/api/v1/pipelines/runs/${runs[0].run_id}/cancel`);
  });

  it('sluice pipeline run reports a refused run with the reason and exits 1', async () => {
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'cli-busy',
      steps: [{ id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } }],
    });
    const first = (await inject('POST', '/api/v1/pipelines/cli-busy/run')).json();
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const cli = await startSluice(['pipeline', 'run', 'cli-busy', '--url', url, '--key', KEYS.operator]).done;
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`HTTP 409: pipeline 'cli-busy' already has a run in progress (${first.run_id})`);
    expect(cli.stderr).toContain('params.pipeline_id: max_concurrent_runs is 1; 1 run active');
    await inject('POST', `/api/v1/pipelines/runs/${first.run_id}/cancel`);
  });

  it('a server shutting down records its runs in progress as interrupted', async () => {
    await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'cut',
      steps: [{ id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } }],
    });
    const runId = (await inject('POST', '/api/v1/pipelines/cut/run')).json().run_id;
    for (let i = 0; i < 100 && (await inject('GET', `/api/v1/pipelines/runs/${runId}`)).json().status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 20));
    await server.restart();
    const run = (await inject('GET', `/api/v1/pipelines/runs/${runId}`)).json();
    expect(run.status).toBe('interrupted');
    expect(run.steps[0].status).toBe('interrupted');
  });

  it('a cron schedule starts runs by itself until the schedule is removed', async () => {
    const doc = { pipeline_id: 'cron', schedule: '* * * * * *', steps: [{ id: 'n', type: 'custom', config: { function: 'noop' } }] };
    const created = await inject('POST', '/api/v1/pipelines', doc);
    expect(created.json().next_run).not.toBeNull();
    let runs: Array<{ run_id: string; trigger: string }> = [];
    for (let i = 0; i < 100 && runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runs = (await inject('GET', '/api/v1/pipelines/cron/runs')).json().runs;
    }
    expect(runs[0]?.trigger).toBe('schedule');
    const { schedule: _schedule, ...unscheduled } = doc;
    const updated = await inject('PUT', '/api/v1/pipelines/cron', unscheduled);
    expect(updated.json().next_run).toBeNull();
    for (const run of (await inject('GET', '/api/v1/pipelines/cron/runs')).json().runs) await waitForRun(server.app, run.run_id);
    expect(server.app.controlPlane.scheduler.next('pipeline:cron')).toBeNull();
  });
});
