import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, BACKENDS, freshDatabase, query, startServer, type TestServer } from './helpers.js';

function multipart(filename: string, content: string | Buffer, fields: Record<string, string> = {}) {
  const boundary = '----sluice-test-boundary';
  const parts = [
    ...Object.entries(fields).map(([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
  ];
  return {
    payload: Buffer.concat([Buffer.from(parts.join('')), Buffer.from(content), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe.each(BACKENDS)('data, transform and file routes (%s state)', (backend) => {
  let server: TestServer;
  let warehouse: { url: string; drop: () => Promise<void> };
  let dir: string;
  const inject = (method: string, url: string, payload?: object, role: 'admin' | 'operator' | 'viewer' = 'operator') =>
    server.app.inject({ method: method as 'GET', url, payload, headers: auth(role) });

  beforeAll(async () => {
    server = await startServer(backend, { uploadLimitBytes: 4096 });
    warehouse = await freshDatabase('sluice_data');
    dir = join(server.stateDir, 'files');
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.csv'), 'resource_id,region,cost\nr1,eu,10.5\nr2,us,20\nr3,eu,\nr1,eu,10.5\n');
    const admin = (payload: object) =>
      server.app.inject({ method: 'POST', url: '/api/v1/datasources/connect', payload, headers: auth('admin') });
    expect((await admin({ name: 'metrics', type: 'file', config: { path: join(dir, 'metrics.csv') } })).statusCode).toBe(201);
    expect((await admin({ name: 'cleaned', type: 'file', config: { path: join(dir, 'cleaned.ndjson') } })).statusCode).toBe(201);
    expect((await admin({ name: 'data_warehouse', type: 'postgresql', config: { url: warehouse.url } })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await warehouse?.drop();
  });

  it('reads with a limit, writes rows into PostgreSQL (append, then replace) and reads them back', async () => {
    const read = await inject('POST', '/api/v1/data/read', { source_name: 'metrics', limit: 2 });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().rows).toEqual([
      { resource_id: 'r1', region: 'eu', cost: 10.5 },
      { resource_id: 'r2', region: 'us', cost: 20 },
    ]);
    const data = [
      { resource_id: 'a', value: 1 },
      { resource_id: 'b', value: 2 },
    ];
    const written = await inject('POST', '/api/v1/data/write', {
      source_name: 'data_warehouse',
      data,
      table_name: 'governance_metrics',
      mode: 'append',
    });
    expect(written.statusCode, written.body).toBe(200);
    expect(written.json().written).toBe(2);
    await inject('POST', '/api/v1/data/write', {
      source_name: 'data_warehouse',
      data: [{ resource_id: 'c', value: 3 }],
      table_name: 'governance_metrics',
      mode: 'append',
    });
    expect((await query(warehouse.url, 'select resource_id from governance_metrics order by 1')).map((r) => r.resource_id)).toEqual([
      'a',
      'b',
      'c',
    ]);
    await inject('POST', '/api/v1/data/write', {
      source_name: 'data_warehouse',
      data: [{ resource_id: 'z', value: 9 }],
      table_name: 'governance_metrics',
      mode: 'replace',
    });
    const back = await inject('POST', '/api/v1/data/read', {
      source_name: 'data_warehouse',
      query: 'select resource_id, value from governance_metrics',
      limit: 10,
    });
    expect(back.json().rows).toEqual([{ resource_id: 'z', value: 9 }]);
    const unknown = await inject('POST', '/api/v1/data/read', { source_name: 'nope' });
    expect(unknown.statusCode).toBe(404);
  });

  it('profiles a datasource, with filters', async () => {
    const profile = await inject('POST', '/api/v1/data/profile', { source_name: 'metrics', filters: { region: 'eu' } });
    expect(profile.statusCode, profile.body).toBe(200);
    const body = profile.json();
    expect(body.row_count).toBe(3);
    expect(body.duplicate_rows).toBe(1);
    const cost = body.columns.find((c: { name: string }) => c.name === 'cost');
    expect(cost.null_count).toBe(1);
    expect(cost.distinct_count).toBe(1);
  });

  it('applies transformations, writes the result, and counts them in the statistics', async () => {
    const applied = await inject('POST', '/api/v1/transform/apply', {
      source_name: 'metrics',
      transformations: [
        {
          rule_id: 'clean_001',
          name: 'Basic Cleaning',
          type: 'clean',
          config: { remove_duplicates: true, missing_values: { strategy: 'fill', fill_values: { cost: 0 } } },
        },
      ],
      output_source: 'cleaned',
    });
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({ rows_in: 4, rows_out: 3, output_source: 'cleaned' });
    expect(applied.json().stats).toEqual([expect.objectContaining({ rule_id: 'clean_001', type: 'clean', rows_in: 4, rows_out: 3 })]);
    expect(applied.json().preview).toHaveLength(3);
    const written = readFileSync(join(dir, 'cleaned.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(written).toEqual([
      { resource_id: 'r1', region: 'eu', cost: 10.5 },
      { resource_id: 'r2', region: 'us', cost: 20 },
      { resource_id: 'r3', region: 'eu', cost: 0 },
    ]);
    const bad = await inject('POST', '/api/v1/transform/apply', {
      source_name: 'metrics',
      transformations: [{ type: 'no_such_transform' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues[0].path).toBe('body.transformations');
    const stats = (await inject('GET', '/api/v1/transform/stats', undefined, 'viewer')).json();
    expect(stats.successful).toBe(1);
    expect(stats.by_type.clean).toBe(1);
  });

  it('uploads a file, detects its types, connects it, and enforces the size limit and formats', async () => {
    const upload = multipart('inventory.csv', 'id,name,seen\n1,vm-a,2024-01-02\n2,vm-b,2024-02-03\n', { datasource_name: 'inventory' });
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/v1/files/upload',
      payload: upload.payload,
      headers: { ...auth('operator'), 'content-type': upload.contentType },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ filename: 'inventory.csv', format: 'csv', rows_sampled: 2, datasource: 'inventory' });
    expect(response.json().columns.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual([
      ['id', 'int'],
      ['name', 'string'],
      ['seen', 'date'],
    ]);
    const read = await inject('POST', '/api/v1/data/read', { source_name: 'inventory' });
    expect(read.json().count).toBe(2);
    const detected = await inject('POST', '/api/v1/files/detect-types', { file_id: response.json().file_id });
    expect(detected.json().rows_sampled).toBe(2);
    const fromRows = await inject('POST', '/api/v1/files/detect-types', {
      data: [
        { a: '1', b: '2.5', c: 'x', d: '2024-01-01' },
        { a: 2, b: null, c: 'y', d: '2024-01-02' },
      ],
    });
    expect(fromRows.json().columns).toEqual([
      { name: 'a', type: 'int', nullable: false },
      { name: 'b', type: 'float', nullable: true },
      { name: 'c', type: 'string', nullable: false },
      { name: 'd', type: 'date', nullable: false },
    ]);

    const big = multipart('big.csv', `a\n${'1\n'.repeat(4000)}`);
    const tooBig = await server.app.inject({
      method: 'POST',
      url: '/api/v1/files/upload',
      payload: big.payload,
      headers: { ...auth('operator'), 'content-type': big.contentType },
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.issues[0].path).toBe('body.file');
    const exe = multipart('tool.exe', 'MZ');
    const wrong = await server.app.inject({
      method: 'POST',
      url: '/api/v1/files/upload',
      payload: exe.payload,
      headers: { ...auth('operator'), 'content-type': exe.contentType },
    });
    expect(wrong.statusCode).toBe(415);
  });
});

describe('HTTP surface: health, metrics, OpenAPI, docs, CORS, limits, request ids', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('pglite', { corsOrigin: ['https://console.example'], bodyLimitBytes: 2048, rateLimitPerMinute: 5 });
  });
  afterAll(() => server?.close());

  it('serves health, metrics, OpenAPI 3 and Swagger UI without a key', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'up' });
    expect((await server.app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({
      status: 'ready',
      checks: { state_database: { status: 'up' } },
    });
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('sluice_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('sluice_pipeline_runs_active 0');
    const spec = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.paths['/api/v1/pipelines'].post.requestBody.content['application/json'].schema.properties.pipeline_id).toBeDefined();
    const docs = await server.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('answers CORS preflights for allowed origins only, echoes request ids, limits body size and rate', async () => {
    const preflight = await server.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/pipelines',
      headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBe('https://console.example');
    const other = await server.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/pipelines',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();

    const traced = await server.app.inject({
      method: 'GET',
      url: '/api/v1/pipelines',
      headers: { ...auth('viewer'), 'x-request-id': 'trace-123' },
    });
    expect(traced.headers['x-request-id']).toBe('trace-123');

    const large = await server.app.inject({
      method: 'POST',
      url: '/api/v1/pipelines',
      headers: { ...auth('operator'), 'content-type': 'application/json' },
      payload: JSON.stringify({ pipeline_id: 'x', description: 'd'.repeat(4000), steps: [] }),
    });
    expect(large.statusCode).toBe(413);
    expect(large.json().error.issues[0].path).toBe('body');

    let limited;
    for (let i = 0; i < 8; i++)
      limited = await server.app.inject({ method: 'GET', url: '/api/v1/transform/stats', headers: auth('viewer') });
    expect(limited!.statusCode).toBe(429);
    expect(limited!.json().error.code).toBe('SLUICE_RATE_LIMITED');
  });
});
