import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startServer, type TestServer } from './helpers.js';

describe('datasource configs are checked by the rules of their connector', () => {
  let server: TestServer;
  const post = (url: string, payload: object, role: 'admin' | 'operator' = 'admin') =>
    server.app.inject({ method: 'POST', url, payload, headers: auth(role) });
  const connect = (payload: object) => post('/api/v1/datasources/connect', { test_connection: false, ...payload });

  beforeAll(async () => {
    server = await startServer('pglite');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses with 400 and the field path what every role of the connector refuses', async () => {
    const avro = await connect({ name: 'events', type: 'kafka', config: { brokers: ['127.0.0.1:9092'], format: 'avro' } });
    expect(avro.statusCode, avro.body).toBe(400);
    expect(avro.json().error).toMatchObject({
      code: 'SLUICE_CONFIG_INVALID',
      issues: [{ path: 'body.config.schema_registry', message: 'format avro needs `schema_registry`' }],
    });
    const alias = await connect({ name: 'events', type: 'kafka', connection_config: { format: 'avro' } });
    expect(alias.json().error.issues).toEqual([
      { path: 'body.connection_config.schema_registry', message: 'format avro needs `schema_registry`' },
    ]);
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/datasources', headers: auth() })).json().datasources).toEqual([]);
  });

  it('keeps a connection its uses complete, and refuses the use that leaves a role rule broken', async () => {
    // A connection: each step, rule or request names its table, query or topics.
    expect((await connect({ name: 'warehouse', type: 'postgresql', config: { url: 'postgres://127.0.0.1:1/none' } })).statusCode).toBe(201);
    expect((await connect({ name: 'stream', type: 'kafka', config: { brokers: ['127.0.0.1:9092'] } })).statusCode).toBe(201);
    // A workbook is a fine datasource to read; writing it is what is refused.
    expect((await connect({ name: 'sheet', type: 'file', config: { path: join(server.stateDir, 'report.xlsx') } })).statusCode).toBe(201);
    const write = await post('/api/v1/data/write', { source_name: 'sheet', data: [{ a: 1 }] }, 'operator');
    expect(write.statusCode, write.body).toBe(400);
    expect(write.json().error).toMatchObject({
      code: 'SLUICE_CONFIG_INVALID',
      issues: [{ path: 'body.format', message: expect.stringContaining('read-only format') }],
    });
    const read = await post('/api/v1/data/read', { source_name: 'stream' }, 'operator');
    expect(read.statusCode, read.body).toBe(400);
    expect(read.json().error.issues).toEqual([{ path: 'body.topics', message: 'a kafka source needs `topics`' }]);
  });

  it('documents the connect body as one schema per connector type, discriminated by type, and keeps field paths in errors', async () => {
    const spec = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const body = spec.paths['/api/v1/datasources/connect'].post.requestBody.content['application/json'].schema;
    expect(body.discriminator).toEqual({ propertyName: 'type' });
    const byType = Object.fromEntries(
      (body.anyOf as { properties: { type: { enum?: string[]; const?: string }; config: { properties: Record<string, unknown> } } }[]).map(
        (b) => [b.properties.type.enum?.[0] ?? b.properties.type.const, b.properties.config],
      ),
    );
    expect(Object.keys(byType)).toEqual(expect.arrayContaining(['file', 'kafka', 'postgresql']));
    expect(Object.keys(byType)).not.toContain('step_output');
    expect(Object.keys(byType.kafka.properties)).toEqual(expect.arrayContaining(['brokers', 'topics', 'schema_registry']));
    expect(byType.postgresql.properties.password).toMatchObject({ type: 'string' });
    const bad = await connect({ name: 'pg', type: 'postgresql', config: { url: 'postgres://x/db', port: 'many' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues).toEqual([expect.objectContaining({ path: 'body.config.port' })]);
    const unknown = await connect({ name: 'x', type: 'nope', config: {} });
    expect(unknown.json().error.issues).toEqual([{ path: 'body.type', message: expect.stringContaining('known: ') }]);
  });
});
