import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, BACKENDS, PGURL, startServer, waitForRun, type TestServer } from './helpers.js';

const PASSWORD = 'Sup3r-S3cret-pw!';
const URL_PASSWORD = 'Url-Pa55word-xyz';
const pgUrl = new URL(PGURL);

describe.each(BACKENDS)('secrets never leave the server (%s state)', (backend) => {
  let server: TestServer;
  const logLines: string[] = [];
  const bodies: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    // The process logger as `sluice serve` builds it, writing here instead of stderr.
    server = await startServer(backend, { logger: createLogger({ level: 'trace', stream: sink }) });
  });
  afterAll(() => server?.close());

  const call = async (method: string, url: string, payload?: unknown) => {
    const response = await server.app.inject({ method: method as 'GET', url, payload: payload as object, headers: auth('admin') });
    bodies.push(response.body);
    return response;
  };

  it('connect, list, get, run, read, fail and audit without a secret in any response, log line or stored row', async () => {
    const pgConfig = {
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
      user: pgUrl.username || 'postgres',
      password: PASSWORD,
      database: 'postgres',
    };
    expect(
      (await call('POST', '/api/v1/datasources/connect', { name: 'warehouse', type: 'postgresql', connection_config: pgConfig }))
        .statusCode,
    ).toBe(201);
    const withUrl = `postgres://${pgUrl.username || 'postgres'}:${URL_PASSWORD}@${pgUrl.host}/postgres`;
    const second = await call('POST', '/api/v1/datasources/connect', { name: 'by_url', type: 'postgresql', config: { url: withUrl } });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json().config.url).toBe(`postgres://${pgUrl.username || 'postgres'}@${pgUrl.host}/postgres`);

    const shown = await call('GET', '/api/v1/datasources/warehouse');
    expect(shown.json().config).toEqual({ host: pgConfig.host, port: pgConfig.port, user: pgConfig.user, database: 'postgres' });
    expect(shown.json().secret_fields).toEqual(['password']);
    await call('GET', '/api/v1/datasources');

    const read = await call('POST', '/api/v1/data/read', { source_name: 'warehouse', query: 'select 1 as one', limit: 5 });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().rows).toEqual([{ one: 1 }]);
    const badQuery = await call('POST', '/api/v1/data/read', { source_name: 'by_url', query: 'select * from no_such_table_here' });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().error.issues[0].path).toBe('body.query');

    // The document is the caller's own text (it holds the password on purpose): not recorded.
    await server.app.inject({
      method: 'POST',
      url: '/api/v1/pipelines',
      headers: auth('admin'),
      payload: {
        pipeline_id: 'leaky',
        settings: { retries: 0 },
        // The driver's error echoes the query, and so the password: it must be masked everywhere.
        steps: [{ id: 'extract', type: 'extract', config: { source: 'warehouse', query: `select * from "${PASSWORD}"` } }],
      },
    });
    const run = await waitForRun(server.app, (await call('POST', '/api/v1/pipelines/leaky/run')).json().run_id);
    expect(run.status).toBe('failed');
    expect(String(run.error)).toContain('[redacted]');
    bodies.push(JSON.stringify(run));

    const refused = await call('POST', '/api/v1/datasources/connect', {
      name: 'down',
      type: 'postgresql',
      config: { ...pgConfig, port: 1 },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.issues[0].path).toBe('body.config');
    await call('GET', '/api/v1/audit');
    await call('GET', '/api/v1/pipelines/leaky/runs');

    const stored = await server.app.controlPlane.state.db.query<Record<string, unknown>>('select * from datasources');
    expect(stored.map((r) => r.name).sort()).toEqual(['by_url', 'warehouse']);
    const everything = [...bodies, ...logLines, JSON.stringify(stored)].join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(URL_PASSWORD);
  });

  it('the sealed config opens only with the same key', async () => {
    const [row] = await server.app.controlPlane.state.db.query<{ config_sealed: string }>(
      "select config_sealed from datasources where name = 'warehouse'",
    );
    expect(row.config_sealed).toMatch(/^v1:/);
    const resolved = await server.app.controlPlane.state.datasources.resolve('warehouse');
    expect(resolved.config.password).toBe(PASSWORD);
  });
});
