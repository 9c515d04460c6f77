import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, BACKENDS, startServer, waitForRun, type TestServer } from './helpers.js';

describe.each(BACKENDS)('pipelines routes (%s state)', (backend) => {
  let server: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    server = await startServer(backend);
    dataDir = join(server.stateDir, 'data');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'in.ndjson'), '{"id":1,"region":"eu"}\n{"id":2,"region":"us"}\n{"id":3,"region":"eu"}\n');
  });
  afterAll(() => server?.close());

  const inject = (method: string, url: string, payload?: unknown, role: 'admin' | 'operator' | 'viewer' = 'admin') =>
    server.app.inject({ method: method as 'GET', url, payload: payload as object, headers: auth(role) });

  const document = (version: string) => ({
    pipeline_id: 'eu_only',
    name: `EU only ${version}`,
    steps: [
      { id: 'extract', type: 'extract', config: { source: 'raw' } },
      {
        id: 'filter',
        type: 'transform',
        depends_on: ['extract'],
        config: { input_step: 'extract', transformations: [{ type: 'filter', config: { condition: "region = 'eu'" } }] },
      },
      { id: 'load', type: 'load', depends_on: ['filter'], config: { input_step: 'filter', target: 'out', mode: 'replace' } },
    ],
  });

  it('connects file datasources, creates, versions, runs and rolls back a pipeline', async () => {
    expect(
      (await inject('POST', '/api/v1/datasources/connect', { name: 'raw', type: 'file', config: { path: join(dataDir, 'in.ndjson') } }))
        .statusCode,
    ).toBe(201);
    expect(
      (await inject('POST', '/api/v1/datasources/connect', { name: 'out', type: 'file', config: { path: join(dataDir, 'out.ndjson') } }))
        .statusCode,
    ).toBe(201);

    const created = await inject('POST', '/api/v1/pipelines', document('v1'), 'operator');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().version).toBe(1);
    expect((await inject('POST', '/api/v1/pipelines', document('v1'))).statusCode).toBe(409);

    const updated = await inject('PUT', '/api/v1/pipelines/eu_only', document('v2'), 'operator');
    expect(updated.json().version).toBe(2);
    expect(updated.json().document.name).toBe('EU only v2');

    const started = await inject('POST', '/api/v1/pipelines/eu_only/run', undefined, 'operator');
    expect(started.statusCode, started.body).toBe(202);
    const run = await waitForRun(server.app, started.json().run_id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    expect(run.version).toBe(2);
    const steps = Object.fromEntries(
      (run.steps as Array<{ step_id: string; status: string; rows_out: number }>).map((s) => [s.step_id, s]),
    );
    expect(steps.extract.rows_out).toBe(3);
    expect(steps.load.rows_out).toBe(2);
    expect(
      readFileSync(join(dataDir, 'out.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual([1, 3]);

    const status = await inject('GET', '/api/v1/pipelines/status?pipeline_id=eu_only', undefined, 'viewer');
    expect(status.json().pipelines[0].last_run.run_id).toBe(run.run_id);
    expect((await inject('GET', '/api/v1/pipelines/eu_only/runs', undefined, 'viewer')).json().runs).toHaveLength(1);

    const rolled = await inject('POST', '/api/v1/pipelines/eu_only/rollback', { version: 1 }, 'operator');
    expect(rolled.json().version).toBe(3);
    expect(rolled.json().document.name).toBe('EU only v1');
    const versions = await inject('GET', '/api/v1/pipelines/eu_only/versions', undefined, 'viewer');
    expect(versions.json().versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3]);

    const audit = await inject('GET', '/api/v1/audit?resource=pipeline:eu_only');
    expect(audit.json().entries.map((e: { action: string }) => e.action)).toEqual([
      'pipeline.rollback',
      'pipeline.run',
      'pipeline.update',
      'pipeline.create',
    ]);
    expect(audit.json().entries[0].request_id).toBe(rolled.headers['x-request-id']);
  });

  it('rejects invalid documents naming the field', async () => {
    const bad = await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'bad',
      steps: [{ id: 'a', type: 'load', depends_on: ['nope'], config: { target: 'x' } }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues.map((i: { path: string }) => i.path)).toContain('body.steps[0].depends_on[0]');
    const cycle = await inject('POST', '/api/v1/pipelines', {
      pipeline_id: 'cyc',
      steps: [
        { id: 'a', type: 'custom', depends_on: ['b'], config: { function: 'f' } },
        { id: 'b', type: 'custom', depends_on: ['a'], config: { function: 'f' } },
      ],
    });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().error.message).toContain('cycle');
    const cron = await inject('POST', '/api/v1/pipelines', { ...document('x'), pipeline_id: 'cron', schedule: 'not a cron' });
    expect(cron.json().error.issues[0].path).toBe('body.schedule');
  });

  it('builds pipelines from the seed templates', async () => {
    const etl = await inject(
      'POST',
      '/api/v1/pipelines/template/etl_basic',
      { pipeline_id: 'my_etl', source: 'raw', target: 'out', transformations: [{ type: 'filter', config: { condition: 'id > 1' } }] },
      'operator',
    );
    expect(etl.statusCode, etl.body).toBe(201);
    expect(etl.json().document.steps.map((s: { type: string }) => s.type)).toEqual(['extract', 'transform', 'load']);
    const dq = await inject(
      'POST',
      '/api/v1/pipelines/template/data_quality_check',
      { pipeline_id: 'dq', source: 'raw', validation_rules: [{ name: 'ids', type: 'unique', columns: ['id'] }] },
      'operator',
    );
    expect(dq.statusCode, dq.body).toBe(201);
    const unknown = await inject('POST', '/api/v1/pipelines/template/nope', { pipeline_id: 'x' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.issues[0].path).toBe('params.name');
  });
});
