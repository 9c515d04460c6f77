import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordBatchFromRows } from '../../src/core/batch.js';
import { registerCustomStep } from '../../src/pipeline/steps/custom.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/control-plane/app.js';
import { serveUrl, sluice, startSluice } from '../support/cli.js';
import {
  API_KEYS,
  auth,
  BACKENDS,
  freshDatabase,
  KEYS,
  PGURL,
  SECRET_KEY,
  silent,
  startServer,
  waitForRun,
  type TestServer,
} from './helpers.js';

const pg = new URL(PGURL);
const pgConfig = {
  host: pg.hostname,
  port: Number(pg.port || 5432),
  user: pg.username || 'postgres',
  password: 'lifecycle-pw',
  database: 'postgres',
};

describe.each(BACKENDS)('state survives a restart (%s)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(backend);
  });
  afterAll(() => server?.close());

  it('datasources (secrets included), pipelines with versions, runs and the audit log are all there after a restart', async () => {
    const admin = auth('admin');
    const inject = (method: string, url: string, payload?: object) =>
      server.app.inject({ method: method as 'GET', url, payload, headers: admin });
    expect((await inject('POST', '/api/v1/datasources/connect', { name: 'pg', type: 'postgresql', config: pgConfig })).statusCode).toBe(
      201,
    );
    const doc = { pipeline_id: 'p', steps: [{ id: 'e', type: 'extract', config: { source: 'pg', query: 'select 1 as x' } }] };
    await inject('POST', '/api/v1/pipelines', doc);
    await inject('PUT', '/api/v1/pipelines/p', { ...doc, name: 'second' });
    const run = await waitForRun(server.app, (await inject('POST', '/api/v1/pipelines/p/run')).json().run_id);
    expect(run.status).toBe('completed');

    const app = await server.restart();
    const again = (url: string) => app.inject({ method: 'GET', url, headers: admin }).then((r) => r.json());
    expect(
      (await again('/api/v1/datasources')).datasources.map((d: { name: string; health: { status: string } }) => [d.name, d.health.status]),
    ).toEqual([['pg', 'healthy']]);
    expect((await app.controlPlane.state.datasources.resolve('pg')).config.password).toBe('lifecycle-pw');
    expect((await again('/api/v1/pipelines/p')).version).toBe(2);
    expect((await again('/api/v1/pipelines/p/versions')).versions).toHaveLength(2);
    const stored = await again(`/api/v1/pipelines/runs/${run.run_id}`);
    expect(stored.status).toBe('completed');
    expect(stored.steps[0].rows_out).toBe(1);
    expect((await again('/api/v1/audit')).entries.map((e: { action: string }) => e.action)).toEqual([
      'pipeline.run',
      'pipeline.update',
      'pipeline.create',
      'datasource.connect',
    ]);
  });
});

describe('live progress over Server-Sent Events', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('pglite');
    await server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server?.close());

  it('streams a snapshot, step transitions, row progress and the run end', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    registerCustomStep('sse-rows', async function* () {
      await gate;
      for (let i = 0; i < 3; i++) yield recordBatchFromRows([{ i }, { i: i + 10 }]);
    });
    const admin = auth('admin');
    await server.app.inject({
      method: 'POST',
      url: '/api/v1/pipelines',
      headers: admin,
      payload: { pipeline_id: 'sse', steps: [{ id: 'gen', type: 'custom', config: { function: 'sse-rows' } }] },
    });
    const runId = (await server.app.inject({ method: 'POST', url: '/api/v1/pipelines/sse/run', headers: admin })).json().run_id;
    const address = server.app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${address.port}/api/v1/pipelines/runs/${runId}/events`, { headers: auth('viewer') });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events: Array<{ event: string; data: Record<string, unknown> }> = [];
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString();
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        events.push({ event: /^event: (.*)$/m.exec(block)![1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]) });
        if (events.length === 1) release();
      }
    }
    expect(events[0].event).toBe('snapshot');
    expect(events[0].data.run_id).toBe(runId);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.rows);
    expect(progress).toEqual([2, 4, 6]);
    expect(events.find((e) => e.event === 'step' && e.data.status === 'completed')?.data.rows).toBe(6);
    expect(events.at(-1)).toEqual({ event: 'run', data: { type: 'run', status: 'completed' } });
    // A finished run answers with its final state at once.
    const late = await server.app.inject({ method: 'GET', url: `/api/v1/pipelines/runs/${runId}/events`, headers: auth('viewer') });
    expect(late.body).toContain('event: snapshot');
    expect(late.body).toContain('"status":"completed"');
  });
});

describe.each(BACKENDS)('sluice serve, deploy, pipeline run; a killed server leaves the run interrupted (%s)', (backend) => {
  it('deploys and runs through the CLI, then marks the run a kill -9 cut short as interrupted', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sluice-serve-'));
    const db = backend === 'postgresql' ? await freshDatabase('sluice_serve') : undefined;
    const env = { SLUICE_API_KEYS: API_KEYS, SLUICE_SECRET_KEY: SECRET_KEY, SLUICE_DATABASE_URL: db?.url ?? '', SLUICE_LOG_LEVEL: 'warn' };
    const serve = startSluice(['serve', '--port', '0', '--state-dir', stateDir], { env });
    try {
      const url = await serveUrl(serve);
      const client = { SLUICE_URL: url, SLUICE_API_KEY: KEYS.admin };
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { ...auth('admin'), ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }).then((r) => r.json());
      await call('POST', '/api/v1/datasources/connect', { name: 'pg', type: 'postgresql', config: pgConfig });

      const file = join(stateDir, 'quick.json');
      writeFileSync(
        file,
        JSON.stringify({
          pipeline_id: 'quick',
          steps: [{ id: 'extract', type: 'extract', config: { source: 'pg', query: 'select generate_series(1, 5) as n' } }],
        }),
      );
      const deployed = await sluice(['deploy', file], { env: client });
      expect(deployed.stdout, deployed.stderr).toContain("pipeline 'quick' created: version 1");
      expect((await sluice(['deploy', file], { env: client })).stdout).toContain('updated: version 2');
      const ran = await sluice(['pipeline', 'run', 'quick'], { env: client });
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/extract\s+completed\s+rows\s+5/);

      await call('POST', '/api/v1/pipelines', {
        pipeline_id: 'slow',
        steps: [{ id: 'sleep', type: 'extract', config: { source: 'pg', query: 'select pg_sleep(15) as slept' } }],
      });
      const run = await call('POST', '/api/v1/pipelines/slow/run');
      for (let i = 0; i < 100; i++) {
        const status = await call('GET', `/api/v1/pipelines/runs/${run.run_id}`);
        if (status.steps[0].status === 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      serve.child.kill('SIGKILL');
      await serve.done;

      const app = await buildApp({
        stateDir,
        databaseUrl: db?.url,
        apiKeys: API_KEYS,
        env: { SLUICE_SECRET_KEY: SECRET_KEY },
        logger: silent,
      });
      try {
        const after = (await app.inject({ method: 'GET', url: `/api/v1/pipelines/runs/${run.run_id}`, headers: auth('viewer') })).json();
        expect(after.status).toBe('interrupted');
        expect(after.steps[0].status).toBe('interrupted');
        expect(after.finished_at).not.toBeNull();
      } finally {
        await app.close();
      }
    } finally {
      serve.child.kill('SIGKILL');
      await db?.drop();
    }
  });
});
