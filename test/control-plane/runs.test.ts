import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomStep } from '../../src/pipeline/steps/custom.js';
import { auth, BACKENDS, startServer, waitForRun, type TestServer } from './helpers.js';

describe.each(BACKENDS)('runs: cancel, conflicts, shutdown and cron schedules (%s state)', (backend) => {
  let server: TestServer;
  const inject = (method: string, url: string, payload?: object) => server.app.inject({ method: method as 'GET', url, payload, headers: auth('admin') });

  beforeAll(async () => {
    server = await startServer(backend);
    registerCustomStep('block-until-cancel', ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined))));
    registerCustomStep('noop', async () => ({ ok: true }));
  });
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
    for (let i = 0; i < 100 && (await inject('GET', `/api/v1/pipelines/runs/${runId}`)).json().status !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    const busy = await inject('DELETE', '/api/v1/pipelines/blocking');
    expect(busy.statusCode).toBe(409);
    const cancelled = await inject('POST', `/api/v1/pipelines/runs/${runId}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect(Object.fromEntries(cancelled.json().steps.map((s: { step_id: string; status: string }) => [s.step_id, s.status]))).toEqual({ wait: 'cancelled', after: 'cancelled' });
    const again = await inject('POST', `/api/v1/pipelines/runs/${runId}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.issues[0].path).toBe('params.run_id');
    expect((await inject('DELETE', '/api/v1/pipelines/blocking')).statusCode).toBe(200);
    expect((await inject('GET', `/api/v1/pipelines/runs/${runId}`)).statusCode).toBe(404);
  });

  it('a server shutting down records its runs in progress as interrupted', async () => {
    await inject('POST', '/api/v1/pipelines', { pipeline_id: 'cut', steps: [{ id: 'wait', type: 'custom', config: { function: 'block-until-cancel' } }] });
    const runId = (await inject('POST', '/api/v1/pipelines/cut/run')).json().run_id;
    for (let i = 0; i < 100 && (await inject('GET', `/api/v1/pipelines/runs/${runId}`)).json().status !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
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
