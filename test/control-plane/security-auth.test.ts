import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/control-plane/app.js';
import { API_KEYS, KEYS, PGURL, SECRET_KEY, silent, startServer, type TestServer } from './helpers.js';

const SECOND_OPERATOR = 'operator-key-0002';

/** A control plane listening on a free loopback port, driven with fetch like any client. */
async function listening(options: Parameters<typeof startServer>[1] = {}): Promise<TestServer & { url: string }> {
  const server = await startServer('pglite', options);
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(server, { url: address });
}

function withoutStateDatabase(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SLUICE_DATABASE_URL: _unused, ...rest } = env;
  return rest;
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

function uploadBody(filename: string, content: string, datasourceName?: string): FormData {
  const form = new FormData();
  if (datasourceName) form.append('datasource_name', datasourceName);
  form.append('file', new Blob([content]), filename);
  return form;
}

describe('uploads replace only what the same principal uploaded', () => {
  let server: TestServer & { url: string };
  const api = (path: string, key: string, init: RequestInit = {}) =>
    fetch(`${server.url}/api/v1${path}`, {
      ...init,
      headers: { ...bearer(key), ...(init.body && !(init.body instanceof FormData) ? { 'content-type': 'application/json' } : {}) },
    });
  const upload = (key: string, filename: string, content: string, datasourceName?: string) =>
    api('/files/upload', key, { method: 'POST', body: uploadBody(filename, content, datasourceName) });
  const readRows = async (name: string) =>
    (
      (await (await api('/data/read', KEYS.operator, { method: 'POST', body: JSON.stringify({ source_name: name }) })).json()) as {
        rows: unknown[];
      }
    ).rows;
  const uploadsDir = () => join(server.stateDir, 'uploads');

  beforeAll(async () => {
    server = await listening({ apiKeys: `${API_KEYS},${SECOND_OPERATOR}:operator` });
  });
  afterAll(() => server?.close());

  it("an operator's upload named like an admin's PostgreSQL datasource is refused with 409 and changes nothing", async () => {
    const connect = await api('/datasources/connect', KEYS.admin, {
      method: 'POST',
      body: JSON.stringify({ name: 'warehouse', type: 'postgresql', test_connection: false, config: { url: PGURL, table: 'orders' } }),
    });
    expect(connect.status, await connect.clone().text()).toBe(201);
    const before = await (await api('/datasources/warehouse', KEYS.viewer)).json();

    const refused = await upload(KEYS.operator, 'warehouse.csv', 'id\n1\n', 'warehouse');
    expect(refused.status).toBe(409);
    const error = ((await refused.json()) as { error: { code: string; issues: { path: string }[] } }).error;
    expect(error.code).toBe('SLUICE_CONFLICT');
    expect(error.issues[0].path).toBe('body.datasource_name');

    const after = await (await api('/datasources/warehouse', KEYS.viewer)).json();
    expect(after).toEqual(before);
    const resolved = await server.app.controlPlane.state.datasources.resolve('warehouse');
    expect(resolved).toEqual({ type: 'postgresql', config: { url: PGURL, table: 'orders' } });
    // The refused file is not left behind either.
    expect(existsSync(uploadsDir()) ? readdirSync(uploadsDir()) : []).toEqual([]);
  });

  it('the uploader replaces its own upload; another operator, and an admin, get 409', async () => {
    expect((await upload(KEYS.operator, 'mine.csv', 'id,v\n1,first\n', 'mine')).status).toBe(201);
    expect(await readRows('mine')).toEqual([{ id: 1, v: 'first' }]);
    const replaced = await upload(KEYS.operator, 'mine.csv', 'id,v\n2,second\n', 'mine');
    expect(replaced.status, await replaced.clone().text()).toBe(201);
    expect(await readRows('mine')).toEqual([{ id: 2, v: 'second' }]);

    for (const key of [SECOND_OPERATOR, KEYS.admin]) {
      const other = await upload(key, 'mine.csv', 'id,v\n3,hijacked\n', 'mine');
      expect(other.status).toBe(409);
    }
    expect(await readRows('mine')).toEqual([{ id: 2, v: 'second' }]);
  });

  it('an upload over an admin-connected file datasource is refused too', async () => {
    const connect = await api('/datasources/connect', KEYS.admin, {
      method: 'POST',
      body: JSON.stringify({
        name: 'admin_files',
        type: 'file',
        test_connection: false,
        config: { path: join(server.stateDir, 'data.csv') },
      }),
    });
    expect(connect.status).toBe(201);
    expect((await upload(KEYS.operator, 'x.csv', 'id\n1\n', 'admin_files')).status).toBe(409);
    expect((await server.app.controlPlane.state.datasources.resolve('admin_files')).config.path).toBe(join(server.stateDir, 'data.csv'));
  });

  it('the file name a client sends never chooses where the file lands', async () => {
    const hostile = [
      '../../escape-a.csv',
      '/tmp/escape-b.csv',
      '..\\..\\escape-c.csv',
      '....//....//escape-d.csv',
      '%2e%2e%2fescape-e.csv',
      './../escape-f.csv',
    ];
    const outside = [server.stateDir, dirname(server.stateDir), tmpdir(), '/tmp'];
    for (const [i, filename] of hostile.entries()) {
      const response = await upload(KEYS.operator, filename, 'id\n1\n', `hostile_${i}`);
      expect(response.status, `${filename}: ${await response.clone().text()}`).toBe(201);
      const body = (await response.json()) as { file_id: string; filename: string };
      expect(body.filename).not.toMatch(/[/\\]|^\.\.?$/);
      const landed = (await server.app.controlPlane.state.datasources.resolve(`hostile_${i}`)).config.path as string;
      expect(relative(uploadsDir(), landed)).toBe(join(body.file_id, body.filename));
      expect(readdirSync(join(uploadsDir(), body.file_id))).toEqual([body.filename]);
    }
    for (const dir of outside) for (const name of readdirSync(dir)) expect(name).not.toMatch(/^escape-/);
  });
});

describe('public configs mask every credential', () => {
  let server: TestServer & { url: string };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}/api/v1${path}`, { ...init, headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' } });

  beforeAll(async () => {
    server = await listening();
  });
  afterAll(() => server?.close());

  it('a URL password holding @ and :, credential query parameters and annotated secret fields never come back', async () => {
    const pg = new URL(PGURL);
    const url = `postgres://reader:p@ss:w0rd%40x@${pg.host}/postgres?sslpassword=ssl-Secret-1&application_name=sluice`;
    const connected = await api('/datasources/connect', {
      method: 'POST',
      body: JSON.stringify({ name: 'hostile_url', type: 'postgresql', test_connection: false, config: { url } }),
    });
    expect(connected.status, await connected.clone().text()).toBe(201);
    const kafka = await api('/datasources/connect', {
      method: 'POST',
      body: JSON.stringify({
        name: 'events',
        type: 'kafka',
        test_connection: false,
        config: { brokers: ['127.0.0.1:9092'], topics: ['t'], sasl: { mechanism: 'plain', username: 'svc', password: 'Kafka-Secret-2' } },
      }),
    });
    expect(kafka.status, await kafka.clone().text()).toBe(201);

    const shown = (await (await api('/datasources/hostile_url')).json()) as { config: { url: string }; secret_fields: string[] };
    expect(shown.config.url).toBe(`postgres://reader@${pg.host}/postgres?application_name=sluice`);
    expect(shown.secret_fields.sort()).toEqual(['url (password)', 'url (query sslpassword)']);
    const events = (await (await api('/datasources/events')).json()) as {
      config: { sasl: Record<string, unknown> };
      secret_fields: string[];
    };
    expect(events.config.sasl).toEqual({ mechanism: 'plain', username: 'svc' });
    expect(events.secret_fields).toEqual(['sasl.password']);

    const everything = [
      await (await api('/datasources')).text(),
      JSON.stringify(await server.app.controlPlane.state.db.query('select public_config from datasources')),
    ].join('\n');
    for (const piece of ['p@ss', 'w0rd', 'ss:w0rd', 'ssl-Secret-1', 'Kafka-Secret-2']) expect(everything).not.toContain(piece);
  });
});

describe('rate limits count against the authenticated principal', () => {
  let server: TestServer & { url: string };
  const get = (path: string, headers: Record<string, string>) => fetch(`${server.url}${path}`, { headers });

  beforeAll(async () => {
    server = await listening({ rateLimitPerMinute: 5 });
  });
  afterAll(() => server?.close());

  it('every spelling of one key shares one bucket; other principals have their own', async () => {
    const spellings = [
      `Bearer ${KEYS.viewer}`,
      `Bearer  ${KEYS.viewer}`,
      `bearer ${KEYS.viewer}`,
      `BEARER    ${KEYS.viewer}`,
      `Bearer \t ${KEYS.viewer}`,
    ];
    for (const authorization of spellings) expect((await get('/api/v1/pipelines', { authorization })).status).toBe(200);
    expect((await get('/api/v1/pipelines', { authorization: `Bearer   \t  ${KEYS.viewer}` })).status).toBe(429);
    const viaHeader = await get('/api/v1/pipelines', { 'x-api-key': KEYS.viewer });
    expect(viaHeader.status).toBe(429);
    expect(((await viaHeader.json()) as { error: { code: string } }).error.code).toBe('SLUICE_RATE_LIMITED');
    expect((await get('/api/v1/pipelines', bearer(KEYS.operator))).status).toBe(200);
  });

  it("a flood of random keys does not evict a principal's bucket", async () => {
    let status = 0;
    for (let i = 0; i < 6 && status !== 429; i++) status = (await get('/api/v1/pipelines', bearer(KEYS.operator))).status;
    expect(status).toBe(429);
    // More distinct keys than the limiter keeps buckets for must not make it forget that.
    const total = 5200;
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        sent++;
        const response = await get('/health/live', bearer(randomBytes(12).toString('hex')));
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 48 }, worker));
    expect((await get('/api/v1/pipelines', bearer(KEYS.operator))).status).toBe(429);
  }, 120_000);
});

describe('failed authentications are limited by address', () => {
  let server: TestServer & { url: string };
  const get = (path: string, headers: Record<string, string>) => fetch(`${server.url}${path}`, { headers });

  beforeAll(async () => {
    server = await listening({ rateLimitPerMinute: 1_000_000, authFailuresPerMinute: 5 });
  });
  afterAll(() => server?.close());

  it('after N unknown keys from one address, every keyed request from it gets 429 (a right guess is not revealed)', async () => {
    for (let i = 0; i < 5; i++)
      expect((await get('/api/v1/pipelines', bearer(`guess-${i}-${randomBytes(6).toString('hex')}`))).status).toBe(401);
    const limited = await get('/api/v1/pipelines', bearer(`guess-x-${randomBytes(6).toString('hex')}`));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await limited.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe('SLUICE_RATE_LIMITED');
    expect(body.error.issues[0].path).toBe('headers.authorization');
    expect((await get('/api/v1/pipelines', bearer(KEYS.admin))).status).toBe(429);
    // Public routes still answer (health checks from the same address keep working).
    expect((await get('/health/live', {})).status).toBe(200);
  });
});

describe('a server config that would not protect anything refuses to start', () => {
  it.each(['   ', ' \t\n '])('buildApp refuses to start with apiKeys %j', async (apiKeys) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sluice-blank-keys-'));
    await expect(buildApp({ stateDir, apiKeys, env: { SLUICE_SECRET_KEY: SECRET_KEY }, logger: silent })).rejects.toMatchObject({
      code: 'SLUICE_CONFIG_INVALID',
      message: expect.stringContaining('SLUICE_API_KEYS'),
    });
  });

  it('a limit that is not a positive integer refuses to start instead of becoming NaN', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bad-limit-'));
    await expect(
      buildApp({
        stateDir,
        apiKeys: API_KEYS,
        env: { SLUICE_SECRET_KEY: SECRET_KEY, SLUICE_AUTH_FAILURES_PER_MINUTE: 'many' },
        logger: silent,
      }),
    ).rejects.toMatchObject({
      code: 'SLUICE_CONFIG_INVALID',
      issues: [{ path: 'env.SLUICE_AUTH_FAILURES_PER_MINUTE', message: 'expected a positive integer' }],
    });
  });

  it('`sluice serve` beyond loopback exits with a clear error instead of listening with every request admin', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sluice-blank-keys-'));
    // 127.0.0.2 is not in the loopback names the guard knows, yet only this machine can reach it.
    const child = spawn(process.execPath, ['bin/sluice.js', 'serve', '--host', '127.0.0.2', '--port', '0', '--state-dir', stateDir], {
      env: { ...withoutStateDatabase(process.env), SLUICE_API_KEYS: '   ', SLUICE_SECRET_KEY: SECRET_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const outcome = await new Promise<{ code: number | null; listened: boolean }>((resolve) => {
      child.stdout.on('data', (chunk) => {
        stdout += String(chunk);
        if (stdout.includes('listening')) {
          child.kill('SIGKILL');
          resolve({ code: null, listened: true });
        }
      });
      child.stderr.on('data', (chunk) => (stderr += String(chunk)));
      child.on('exit', (code) => resolve({ code, listened: false }));
    });
    expect(outcome).toEqual({ code: 2, listened: false });
    expect(stderr).toContain('SLUICE_API_KEYS');
  }, 60_000);
});
