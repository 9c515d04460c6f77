import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisPrefix, uniquePrefix } from '../sync/helpers.js';
import { auth, startServer, type TestServer } from './helpers.js';

const prefix = uniquePrefix('capabilities');
process.env.SLUICE_SYNC_KEY_PREFIX = prefix;

describe('sync rules and connector capabilities', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer('pglite');
    for (const name of ['in', 'out']) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/v1/datasources/connect',
        headers: auth(),
        payload: { name, type: 'file', config: { path: join(server.stateDir, `${name}.ndjson`) } },
      });
      expect(response.statusCode).toBe(201);
    }
  });

  afterAll(async () => {
    await server?.close();
    await dropRedisPrefix(prefix);
  });

  it('refuses with 400 a rule asking a connector for what it cannot do, naming the field', async () => {
    const create = (rule: Record<string, unknown>) =>
      server.app.inject({
        method: 'POST',
        url: '/api/v1/sync/rules',
        headers: auth('operator'),
        payload: { name: 'files', source: 'in', target: 'out', ...rule },
      });
    const cdc = await create({ rule_id: 'files_cdc', mode: 'cdc' });
    expect(cdc.statusCode).toBe(400);
    expect(cdc.json().error.issues).toEqual([{ path: 'body.mode', message: "connector 'file' cannot do cdc" }]);
    const both = await create({ rule_id: 'files_both', bidirectional: true });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.issues).toEqual([{ path: 'body.source', message: "connector 'file' cannot do bidirectional sync" }]);
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/sync/rules', headers: auth() })).json().rules).toEqual([]);
  });
});
