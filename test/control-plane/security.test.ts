import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, dropRedisPrefix, sql, uniquePrefix } from '../sync/helpers.js';
import { auth, KEYS, startServer, waitForRun, type TestServer } from './helpers.js';

const prefix = uniquePrefix('security');
process.env.SLUICE_SYNC_KEY_PREFIX = prefix;

const SENTINEL = 'SENTINEL-outside-the-root-7c1f';

interface Attack {
  name: string;
  method: 'POST' | 'PUT';
  url: string;
  body: unknown;
  status: 400 | 403;
  /** The request field the refusal must name (a prefix of the issue path, or a pattern). */
  field: string | RegExp;
}

/**
 * Every route that takes data-selecting input, tried over real HTTP with what an attacker would
 * send: paths out of the datasource directory, env references, inline connector configs, hosts
 * and ports. Each is refused with a 4xx naming the field; nothing outside the root is read or
 * written, and the listening socket an attacker points at never sees a connection.
 */
describe('security: a request picks what to read, never where (real HTTP)', () => {
  let server: TestServer;
  let base: string;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let listener: Server;
  let connections = 0;
  let port: number;
  const bodies: string[] = [];
  const paths = { root: '', outside: '', sentinel: '' };
  let sentinelWritten = 0;

  const call = async (role: keyof typeof KEYS, method: string, url: string, body?: unknown) => {
    const response = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { ...auth(role), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, json: JSON.parse(text) };
  };

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;

    const dir = mkdtempSync(join(tmpdir(), 'sluice-security-'));
    paths.root = join(dir, 'root');
    paths.outside = join(dir, 'outside');
    paths.sentinel = join(paths.outside, 'secret.ndjson');
    mkdirSync(join(paths.root, 'sub'), { recursive: true });
    mkdirSync(paths.outside);
    writeFileSync(paths.sentinel, `{"secret":"${SENTINEL}"}\n`);
    sentinelWritten = statSync(paths.sentinel).mtimeMs;
    writeFileSync(join(paths.root, 'in.ndjson'), '{"id":1,"region":"eu"}\n{"id":2,"region":"us"}\n');
    writeFileSync(join(paths.root, 'sub', 'part.ndjson'), '{"id":3,"region":"eu"}\n');
    writeFileSync(join(paths.root, 'sub', 'regions.ndjson'), '{"region":"eu","geo":"Europe"}\n{"region":"us","geo":"Americas"}\n');
    symlinkSync(paths.sentinel, join(paths.root, 'link.ndjson'));
    symlinkSync(paths.outside, join(paths.root, 'escape'));
    symlinkSync(join(paths.outside, 'created.ndjson'), join(paths.root, 'dangling.ndjson'));

    db = await createDatabase('sluice_security');
    await sql(db.url, 'create table t (id int primary key, name text)');
    await sql(db.url, "insert into t values (1, 'one'), (2, 'two'), (3, 'three')");
    process.env.SLUICE_SECURITY_TEST_PGURL = db.url;

    server = await startServer('pglite');
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    // Stored by an admin: the `${env:...}` reference is kept and resolved when the datasource is used.
    for (const [name, type, config] of [
      ['files', 'file', { path: paths.root }],
      ['single', 'file', { path: join(paths.root, 'in.ndjson') }],
      ['pg', 'postgresql', { url: '${env:SLUICE_SECURITY_TEST_PGURL}' }],
    ] as const) {
      const connected = await call('admin', 'POST', '/datasources/connect', { name, type, config });
      expect(connected.status, JSON.stringify(connected.json)).toBe(201);
    }
  });

  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => listener?.close(resolve));
    await dropRedisPrefix(prefix);
    await db?.drop();
  });

  const rows = [{ id: 9, note: 'x' }];
  const pgUrl = () => `postgres://postgres@127.0.0.1:${port}/postgres`;
  const enrich = (source: unknown) => [{ type: 'enrich', config: { lookups: [{ source, key: 'region' }] } }];
  const pipeline = (id: string, steps: unknown[]) => ({ pipeline_id: id, settings: { retries: 0 }, steps });
  const extract = (config: Record<string, unknown>) => ({ id: 'e', type: 'extract', config: { source: 'files', ...config } });

  const attacks = (): Attack[] => [
    // /data/read and /data/profile: a path out of the datasource directory.
    {
      name: 'read an absolute path',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: '/etc/passwd' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read ../ out of the root',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: '../outside/secret.ndjson' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read ../ hidden mid-path',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: 'sub/../../outside/secret.ndjson' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read a symlink pointing out',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: 'link.ndjson' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read through a symlinked directory',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: 'escape/secret.ndjson' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read a file:// URL',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: `file://${paths.sentinel}` },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read a glob reaching a symlinked directory',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: '{sub,escape}/*.ndjson' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read another path of a one-file datasource',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'single', path: 'sub/part.ndjson' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read a path from a postgresql datasource',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'pg', path: '/etc/passwd' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'read with an env reference',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'files', path: 'x-${env:SLUICE_API_KEYS}.ndjson' },
      status: 400,
      field: 'body.path',
    },
    {
      name: 'read with a host',
      method: 'POST',
      url: '/data/read',
      body: { source_name: 'pg', query: 'select 1', url: pgUrl() },
      status: 400,
      field: 'body.url',
    },
    {
      name: 'profile ../ out of the root',
      method: 'POST',
      url: '/data/profile',
      body: { source_name: 'files', path: '../outside/secret.ndjson' },
      status: 403,
      field: 'body.path',
    },
    // /data/write: create or overwrite a file out of the root.
    {
      name: 'write ../ over the sentinel',
      method: 'POST',
      url: '/data/write',
      body: { source_name: 'files', path: '../outside/secret.ndjson', data: rows, mode: 'replace' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'write an absolute authorized_keys',
      method: 'POST',
      url: '/data/write',
      body: { source_name: 'files', path: join(paths.outside, 'authorized_keys.ndjson'), data: rows },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'write through a dangling symlink',
      method: 'POST',
      url: '/data/write',
      body: { source_name: 'files', path: 'dangling.ndjson', data: rows },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'write through a symlink onto the sentinel',
      method: 'POST',
      url: '/data/write',
      body: { source_name: 'files', path: 'link.ndjson', data: rows, mode: 'append' },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'write a file named after the admin keys',
      method: 'POST',
      url: '/data/write',
      body: { source_name: 'files', path: 'leak-${env:SLUICE_API_KEYS}.csv', data: rows },
      status: 400,
      field: 'body.path',
    },
    {
      name: 'write rows holding an env reference',
      method: 'POST',
      url: '/data/write',
      body: { source_name: 'files', path: 'sub/w.ndjson', data: [{ id: 1, v: '${env:HOME}' }] },
      status: 400,
      field: 'body.data[0].v',
    },
    // /transform/apply: paths, and lookups that name a connector instead of a datasource.
    {
      name: 'transform ../ out of the root',
      method: 'POST',
      url: '/transform/apply',
      body: { source_name: 'files', path: '../outside/secret.ndjson', transformations: [{ type: 'clean', config: {} }] },
      status: 403,
      field: 'body.path',
    },
    {
      name: 'lookup an inline postgresql URL (a port scan)',
      method: 'POST',
      url: '/transform/apply',
      body: {
        source_name: 'files',
        transformations: enrich({ type: 'postgresql', config: { url: pgUrl(), query: 'select 1 as region' } }),
      },
      status: 403,
      field: 'body.transformations[0].config.lookups[0].source',
    },
    {
      name: 'lookup an inline file',
      method: 'POST',
      url: '/transform/apply',
      body: { source_name: 'files', transformations: enrich({ type: 'file', config: { path: paths.sentinel } }) },
      status: 403,
      field: 'body.transformations[0].config.lookups[0].source',
    },
    {
      name: 'lookup a datasource path out of its root',
      method: 'POST',
      url: '/transform/apply',
      body: { source_name: 'files', transformations: enrich({ datasource: 'files', path: '../outside/secret.ndjson' }) },
      status: 403,
      field: 'body.transformations[0].config.lookups[0].source.path',
    },
    {
      name: 'lookup with an env reference',
      method: 'POST',
      url: '/transform/apply',
      body: { source_name: 'files', transformations: enrich({ datasource: 'pg', query: "select '${env:SLUICE_API_KEYS}' as region" }) },
      status: 400,
      field: 'body.transformations[0].config.lookups[0].source.query',
    },
    // Pipelines: extract, load and transform steps, a template, an update.
    {
      name: 'pipeline extracting /proc/self/environ',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('environ', [extract({ options: { path: '/proc/self/environ' } })]),
      status: 403,
      field: 'body.steps[0].config.options.path',
    },
    {
      name: 'pipeline extracting ../',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('dotdot', [extract({ path: '../outside/secret.ndjson' })]),
      status: 403,
      field: 'body.steps[0].config.path',
    },
    {
      name: 'pipeline extracting from another host',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('host', [{ id: 'e', type: 'extract', config: { source: 'pg', query: 'select 1', options: { url: pgUrl() } } }]),
      status: 403,
      field: 'body.steps[0].config.options.url',
    },
    {
      name: 'pipeline extracting from another port',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('port', [
        { id: 'e', type: 'extract', config: { source: 'pg', query: 'select 1', options: { host: '127.0.0.1', port } } },
      ]),
      status: 403,
      field: /^body\.steps\[0\]\.config\.options\.(host|port)$/,
    },
    {
      name: 'pipeline extracting as another user',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('creds', [
        { id: 'e', type: 'extract', config: { source: 'pg', table: 't', options: { user: 'postgres', password: 'guess' } } },
      ]),
      status: 403,
      field: /^body\.steps\[0\]\.config\.options\.(user|password)$/,
    },
    {
      name: 'pipeline loading ../',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('load', [
        extract({}),
        { id: 'l', type: 'load', depends_on: ['e'], config: { target: 'files', path: '../outside/secret.ndjson', mode: 'replace' } },
      ]),
      status: 403,
      field: 'body.steps[1].config.path',
    },
    {
      name: 'pipeline using a connector as a transform (a file sink)',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('sink', [
        extract({}),
        {
          id: 't',
          type: 'transform',
          depends_on: ['e'],
          config: { transformations: [{ type: 'file', config: { path: join(paths.outside, 'cron.ndjson') } }] },
        },
      ]),
      status: 400,
      field: 'body.steps[1].config.transformations',
    },
    {
      name: 'pipeline with an inline lookup',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('lookup', [
        extract({}),
        {
          id: 't',
          type: 'transform',
          depends_on: ['e'],
          config: { transformations: enrich({ type: 'postgresql', config: { url: pgUrl(), query: 'select 1' } }) },
        },
      ]),
      status: 403,
      field: 'body.steps[1].config.transformations[0].config.lookups[0].source',
    },
    {
      name: 'pipeline with an env reference',
      method: 'POST',
      url: '/pipelines',
      body: pipeline('env', [{ id: 'e', type: 'extract', config: { source: 'pg', query: "select '${env:SLUICE_API_KEYS}' as k" } }]),
      status: 400,
      field: 'body.steps[0].config.query',
    },
    {
      name: 'pipeline template extracting ../',
      method: 'POST',
      url: '/pipelines/template/etl_basic',
      body: { pipeline_id: 'tpl', source: 'files', path: '../outside/secret.ndjson', target: 'files' },
      status: 403,
      field: 'body.steps[0].config.path',
    },
    {
      name: 'pipeline update extracting ../',
      method: 'PUT',
      url: '/pipelines/base',
      body: pipeline('base', [extract({ path: '../outside/secret.ndjson' })]),
      status: 403,
      field: 'body.steps[0].config.path',
    },
    // Sync rules: overrides of where the datasources are.
    {
      name: 'sync rule to another host',
      method: 'POST',
      url: '/sync/rules',
      body: { rule_id: 'sec_host', name: 'x', source: 'pg', target: 'pg', source_config: { table: 't', url: pgUrl() } },
      status: 403,
      field: 'body.source_config.url',
    },
    {
      name: 'sync rule to another port',
      method: 'POST',
      url: '/sync/rules',
      body: {
        rule_id: 'sec_port',
        name: 'x',
        source: 'pg',
        target: 'pg',
        source_config: { table: 't' },
        target_config: { table: 't2', host: '127.0.0.1', port },
      },
      status: 403,
      field: /^body\.target_config\.(host|port)$/,
    },
    {
      name: 'sync rule reading a path out of the root',
      method: 'POST',
      url: '/sync/rules',
      body: {
        rule_id: 'sec_path',
        name: 'x',
        source: 'files',
        target: 'pg',
        source_config: { path: '../outside/secret.ndjson' },
        target_config: { table: 't' },
      },
      status: 403,
      field: 'body.source_config.path',
    },
    {
      name: 'sync rule with an env reference',
      method: 'POST',
      url: '/sync/rules',
      body: { rule_id: 'sec_env', name: 'x', source: 'pg', target: 'pg', source_config: { table: '${env:SLUICE_API_KEYS}' } },
      status: 400,
      field: 'body.source_config.table',
    },
  ];

  it('the happy paths still work: a sub-path inside the root, query, table, params and limit', async () => {
    const sub = await call('operator', 'POST', '/data/read', { source_name: 'files', path: 'sub/part.ndjson' });
    expect(sub.status, JSON.stringify(sub.json)).toBe(200);
    expect(sub.json.rows).toEqual([{ id: 3, region: 'eu' }]);
    const whole = await call('operator', 'POST', '/data/read', { source_name: 'files', limit: 10 });
    expect(whole.json.rows).toEqual([
      { id: 1, region: 'eu' },
      { id: 2, region: 'us' },
    ]);

    const query = await call('operator', 'POST', '/data/read', {
      source_name: 'pg',
      query: 'select id, name from t where id > $1 order by id',
      params: [1],
      limit: 1,
    });
    expect(query.status, JSON.stringify(query.json)).toBe(200);
    expect(query.json.rows).toEqual([{ id: 2, name: 'two' }]);
    const table = await call('operator', 'POST', '/data/read', { source_name: 'pg', table: 't', limit: 5 });
    expect(table.json.count).toBe(3);

    const written = await call('operator', 'POST', '/data/write', {
      source_name: 'files',
      path: 'out/new.ndjson',
      data: rows,
      mode: 'replace',
    });
    expect(written.status, JSON.stringify(written.json)).toBe(200);
    expect(readFileSync(join(paths.root, 'out', 'new.ndjson'), 'utf8').trim()).toBe('{"id":9,"note":"x"}');

    const enriched = await call('operator', 'POST', '/transform/apply', {
      source_name: 'files',
      transformations: enrich({ datasource: 'files', path: 'sub/regions.ndjson' }),
    });
    expect(enriched.status, JSON.stringify(enriched.json)).toBe(200);
    expect(enriched.json.preview).toEqual([
      { id: 1, region: 'eu', geo: 'Europe' },
      { id: 2, region: 'us', geo: 'Americas' },
    ]);

    const created = await call(
      'operator',
      'POST',
      '/pipelines',
      pipeline('base', [
        extract({ path: 'sub/part.ndjson' }),
        { id: 'l', type: 'load', depends_on: ['e'], config: { target: 'files', path: 'out/run.ndjson', mode: 'replace' } },
      ]),
    );
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const run = await waitForRun(server.app, (await call('operator', 'POST', '/pipelines/base/run')).json.run_id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    expect(readFileSync(join(paths.root, 'out', 'run.ndjson'), 'utf8').trim()).toBe('{"id":3,"region":"eu"}');

    const rule = await call('operator', 'POST', '/sync/rules', {
      rule_id: 'sec_ok',
      name: 'ok',
      source: 'pg',
      target: 'pg',
      source_config: { table: 't', batch_size: 10 },
      target_config: { table: 't_copy' },
    });
    expect(rule.status, JSON.stringify(rule.json)).toBe(201);
    expect((await call('admin', 'DELETE', '/sync/rules/sec_ok')).status).toBe(200);
  });

  it('as operator, every attack is refused with a 4xx naming the field', async () => {
    const failures: string[] = [];
    for (const attack of attacks()) {
      const response = await call('operator', attack.method, attack.url, attack.body);
      const issue = response.json.error?.issues?.[0]?.path as string | undefined;
      const named = typeof attack.field === 'string' ? issue === attack.field : attack.field.test(issue ?? '');
      if (response.status !== attack.status || !named)
        failures.push(`${attack.name}: ${response.status} ${JSON.stringify(response.json).slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
  });

  it('as viewer, every attack is refused before it is looked at', async () => {
    for (const attack of attacks()) {
      const response = await call('viewer', attack.method, attack.url, attack.body);
      expect(response.status, attack.name).toBe(403);
      expect(response.json.error.issues[0].path).toBe('headers.authorization');
    }
  });

  it('env references are refused anywhere in a request, also in the query string', async () => {
    const status = await call('viewer', 'GET', `/pipelines/status?pipeline_id=${encodeURIComponent('${env:SLUICE_API_KEYS}')}`);
    expect(status.status).toBe(400);
    expect(status.json.error.issues[0].path).toBe('querystring.pipeline_id');
    const nested = await call('operator', 'POST', '/files/detect-types', { data: [{ a: { deep: ['${env:HOME}'] } }] });
    expect(nested.status).toBe(400);
    expect(nested.json.error.issues[0].path).toBe('body.data[0].a.deep[0]');
  });

  it('a stored pipeline is screened again when it runs, by request or by schedule', async () => {
    // Stored while its datasource was not connected: nothing to screen against yet.
    const created = await call(
      'operator',
      'POST',
      '/pipelines',
      pipeline('later', [{ id: 'e', type: 'extract', config: { source: 'later', path: '../outside/secret.ndjson' } }]),
    );
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(
      (await call('admin', 'POST', '/datasources/connect', { name: 'later', type: 'file', config: { path: paths.root } })).status,
    ).toBe(201);
    const refused = await call('operator', 'POST', '/pipelines/later/run');
    expect(refused.status).toBe(403);
    expect(refused.json.error.issues[0].path).toBe('pipeline.steps[0].config.path');
    // A scheduled run starts without a request: the step itself refuses.
    const run = await waitForRun(server.app, (await server.app.controlPlane.runs.start('later', 'schedule')).run_id);
    expect(run.status).toBe('failed');
    expect(String(run.error)).toContain("config.path: must not contain '..'");
  });

  it('nothing outside the root was read, created or changed, and no connection was made', () => {
    expect(readdirSync(paths.outside).sort()).toEqual(['secret.ndjson']);
    expect(readFileSync(paths.sentinel, 'utf8')).toBe(`{"secret":"${SENTINEL}"}\n`);
    expect(statSync(paths.sentinel).mtimeMs).toBe(sentinelWritten);
    expect(readdirSync(paths.root).filter((name) => name.startsWith('leak'))).toEqual([]);
    const everything = bodies.join('\n');
    expect(everything).not.toContain(SENTINEL);
    expect(everything).not.toContain(KEYS.admin);
    expect(everything).not.toContain('root:x:0:0');
    expect(connections).toBe(0);
  });
});
