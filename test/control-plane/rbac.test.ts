import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, BACKENDS, startServer, type TestServer } from './helpers.js';

type Access = 'public' | 'viewer' | 'operator' | 'admin';

/** Every route and the least role that may call it; the test fails when a route is missing here. */
const ROUTES: Record<string, Access> = {
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'POST /api/v1/datasources/connect': 'admin',
  'GET /api/v1/datasources': 'viewer',
  'GET /api/v1/datasources/{name}': 'viewer',
  'DELETE /api/v1/datasources/{name}': 'admin',
  'POST /api/v1/data/read': 'operator',
  'POST /api/v1/data/write': 'operator',
  'POST /api/v1/data/profile': 'operator',
  'POST /api/v1/transform/apply': 'operator',
  'GET /api/v1/transform/stats': 'viewer',
  'POST /api/v1/pipelines': 'operator',
  'GET /api/v1/pipelines': 'viewer',
  'GET /api/v1/pipelines/status': 'viewer',
  'POST /api/v1/pipelines/template/{name}': 'operator',
  'GET /api/v1/pipelines/{pipeline_id}': 'viewer',
  'PUT /api/v1/pipelines/{pipeline_id}': 'operator',
  'DELETE /api/v1/pipelines/{pipeline_id}': 'admin',
  'GET /api/v1/pipelines/{pipeline_id}/versions': 'viewer',
  'POST /api/v1/pipelines/{pipeline_id}/rollback': 'operator',
  'POST /api/v1/pipelines/{pipeline_id}/run': 'operator',
  'GET /api/v1/pipelines/{pipeline_id}/runs': 'viewer',
  'GET /api/v1/pipelines/runs/{run_id}': 'viewer',
  'POST /api/v1/pipelines/runs/{run_id}/cancel': 'operator',
  'GET /api/v1/pipelines/runs/{run_id}/events': 'viewer',
  'POST /api/v1/files/upload': 'operator',
  'POST /api/v1/files/detect-types': 'operator',
  'GET /api/v1/audit': 'admin',
  'POST /api/v1/sync/rules': 'operator',
  'GET /api/v1/sync/rules': 'viewer',
  'GET /api/v1/sync/rules/{rule_id}': 'viewer',
  'DELETE /api/v1/sync/rules/{rule_id}': 'admin',
  'POST /api/v1/sync/execute/{rule_id}': 'operator',
  'GET /api/v1/sync/status': 'viewer',
  'GET /api/v1/sync/rules/{rule_id}/history': 'viewer',
  'GET /api/v1/sync/rules/{rule_id}/conflicts': 'viewer',
  'POST /api/v1/sync/rules/{rule_id}/conflicts/resolve': 'operator',
};
const HIDDEN: Record<string, Access> = { 'GET /metrics': 'public', 'GET /openapi.json': 'public', 'GET /docs/': 'public' };

const RANK = { public: -1, viewer: 0, operator: 1, admin: 2 } as const;
const CALLERS = ['none', 'viewer', 'operator', 'admin'] as const;

describe.each(BACKENDS)('RBAC matrix (%s state)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(backend);
  });
  afterAll(() => server?.close());

  it('the matrix covers every documented route', async () => {
    const spec = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('every role × every route: allowed roles pass auth, others get 401/403 naming the credential', async () => {
    const failures: string[] = [];
    for (const [route, access] of Object.entries({ ...ROUTES, ...HIDDEN })) {
      const [method, template] = route.split(' ');
      const url = template.replace(/\{[^}]+\}/g, 'rbac_probe');
      for (const caller of CALLERS) {
        const headers = caller === 'none' ? {} : auth(caller);
        const response = await server.app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
        });
        const allowed = access === 'public' || (caller !== 'none' && RANK[caller] >= RANK[access]);
        const expected = allowed ? 'not 401/403' : caller === 'none' ? '401' : '403';
        const ok = allowed ? ![401, 403].includes(response.statusCode) : response.statusCode === Number(expected);
        if (!ok) failures.push(`${route} as ${caller}: got ${response.statusCode}, expected ${expected}`);
        if (!allowed && response.json().error.issues[0].path !== 'headers.authorization')
          failures.push(`${route} as ${caller}: no field named`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('accepts X-API-Key as well as a bearer token, and rejects unknown keys', async () => {
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/v1/pipelines', headers: { 'x-api-key': 'viewer-key-0001' } })).statusCode,
    ).toBe(200);
    const unknown = await server.app.inject({
      method: 'GET',
      url: '/api/v1/pipelines',
      headers: { authorization: 'Bearer not-a-key-at-all' },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.code).toBe('SLUICE_UNAUTHORIZED');
  });
});
