import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, BACKENDS, startServer, type TestServer } from './helpers.js';
import { prng } from '../../scripts/prng.js';

// A directory of its own: whatever else lies in the machine's temp directory is not this test's input.
const fuzzRoot = mkdtempSync(join(tmpdir(), 'sluice-fuzz-'));

const VALID: Record<string, unknown> = {
  'POST /api/v1/datasources/connect': { name: 'fz', type: 'file', config: { path: fuzzRoot } },
  'POST /api/v1/data/read': { source_name: 'raw', limit: 3 },
  'POST /api/v1/data/write': { source_name: 'sink', data: [{ a: 1 }], mode: 'append' },
  'POST /api/v1/data/profile': { source_name: 'raw', filters: { region: 'eu' } },
  'POST /api/v1/transform/apply': { source_name: 'raw', transformations: [{ type: 'filter', config: { condition: 'id > 1' } }] },
  'POST /api/v1/pipelines': { pipeline_id: 'fz', steps: [{ id: 'e', type: 'extract', config: { source: 'raw' } }] },
  'PUT /api/v1/pipelines/base': { pipeline_id: 'base', steps: [{ id: 'e', type: 'extract', config: { source: 'raw' } }] },
  'POST /api/v1/pipelines/template/etl_basic': { pipeline_id: 'fzt', source: 'raw', target: 'sink' },
  'POST /api/v1/pipelines/template/data_quality_check': {
    pipeline_id: 'fzq',
    source: 'raw',
    validation_rules: [{ name: 'n', type: 'not_null', columns: ['id'] }],
  },
  'POST /api/v1/pipelines/base/rollback': { version: 1 },
  'POST /api/v1/files/detect-types': { data: [{ a: '1' }] },
};
const NO_BODY = [
  'GET /api/v1/datasources',
  'GET /api/v1/datasources/raw',
  'DELETE /api/v1/datasources/nope',
  'GET /api/v1/transform/stats',
  'GET /api/v1/pipelines',
  'GET /api/v1/pipelines/status',
  'GET /api/v1/pipelines/base',
  'GET /api/v1/pipelines/base/versions',
  'GET /api/v1/pipelines/base/runs',
  'GET /api/v1/pipelines/runs/nope',
  'POST /api/v1/pipelines/runs/nope/cancel',
  'GET /api/v1/pipelines/runs/nope/events',
  'DELETE /api/v1/pipelines/nope',
  'GET /api/v1/audit',
  'POST /api/v1/files/upload',
];

const NASTY = [
  '',
  ' ',
  '../../etc/passwd',
  '%00',
  '\u0000',
  'ü∆😀',
  'a'.repeat(5000),
  '${env:HOME}',
  "'; drop table runs; --",
  '<script>',
  '{{x}}',
  '-1',
  '1e309',
  'null',
  'true',
];

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 2 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return Math.floor(rand() * 2 ** 31) * (rand() < 0.5 ? -1 : 1);
    case 2:
      return rand() * 1e6;
    case 3:
      return rand() < 0.5;
    case 4:
    case 5:
      return NASTY[Math.floor(rand() * NASTY.length)];
    case 6:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const keys = [
        'name',
        'type',
        'config',
        'steps',
        'pipeline_id',
        'source_name',
        'data',
        'limit',
        'mode',
        'version',
        'query',
        'path',
        'id',
        'depends_on',
        'transformations',
        'x',
      ];
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 5) }, () => [keys[Math.floor(rand() * keys.length)], randomValue(rand, depth + 1)]),
      );
    }
  }
}

/** A valid payload with one field removed, retyped or added, at any depth. */
function mutate(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rand() < 0.2) return randomValue(rand);
    const copy = [...value];
    const i = Math.floor(rand() * copy.length);
    copy[i] = mutate(copy[i], rand);
    return copy;
  }
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const r = rand();
    if (r < 0.25 && keys.length > 0) delete copy[keys[Math.floor(rand() * keys.length)]];
    else if (r < 0.4) copy[`extra_${Math.floor(rand() * 9)}`] = randomValue(rand);
    else if (keys.length > 0) {
      const key = keys[Math.floor(rand() * keys.length)];
      copy[key] = rand() < 0.5 ? mutate(copy[key], rand) : randomValue(rand);
    }
    return copy;
  }
  return randomValue(rand);
}

describe.each(BACKENDS)('fuzz: random and malformed payloads on every route (%s state)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(backend);
    const dir = join(server.stateDir, 'fuzz');
    mkdirSync(dir);
    writeFileSync(join(dir, 'in.ndjson'), '{"id":1,"region":"eu"}\n{"id":2,"region":"us"}\n');
    const admin = auth('admin');
    await server.app.inject({
      method: 'POST',
      url: '/api/v1/datasources/connect',
      headers: admin,
      payload: { name: 'raw', type: 'file', config: { path: join(dir, 'in.ndjson') } },
    });
    await server.app.inject({
      method: 'POST',
      url: '/api/v1/datasources/connect',
      headers: admin,
      payload: { name: 'sink', type: 'file', config: { path: join(dir, 'out.ndjson') } },
    });
    await server.app.inject({
      method: 'POST',
      url: '/api/v1/pipelines',
      headers: admin,
      payload: VALID['PUT /api/v1/pipelines/base'] as object,
    });
  });
  afterAll(async () => {
    await server?.app.controlPlane.runs.shutdown();
    await server?.close();
  });

  it('1,200 requests: no 5xx, every 4xx names a field, the server stays up', async () => {
    const rand = prng(backend === 'pglite' ? 42 : 4242);
    const routes = [...Object.keys(VALID), ...NO_BODY];
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1200; i++) {
      const route = routes[i % routes.length];
      const [method, path] = route.split(' ');
      const kind = rand();
      let url = path;
      let payload: string | undefined;
      let contentType = 'application/json';
      if (kind < 0.15) {
        // Malformed JSON text.
        payload = ['{', '{"a":', '[1,2', '{"a" 1}', 'nul', '"unterminated', '{}}', '\u0000'][Math.floor(rand() * 8)];
      } else if (kind < 0.22) {
        payload = 'name=x&type=y';
        contentType = ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=zz'][
          Math.floor(rand() * 4)
        ];
      } else if (kind < 0.32) {
        url = path.replace(/(raw|base|nope)/, encodeURIComponent(NASTY[Math.floor(rand() * NASTY.length)]) || 'x');
        if (rand() < 0.5)
          url += `?pipeline_id=${encodeURIComponent(String(randomValue(rand)))}&limit=${encodeURIComponent(String(randomValue(rand)))}`;
        payload = JSON.stringify(VALID[route] ?? {});
      } else if (kind < 0.55) {
        payload = JSON.stringify(randomValue(rand));
      } else {
        payload = JSON.stringify(mutate(VALID[route] ?? randomValue(rand), rand));
      }
      const hasBody = method !== 'GET' && method !== 'DELETE';
      const response = await server.app.inject({
        method: method as 'GET',
        url,
        headers: { ...auth('admin'), ...(hasBody ? { 'content-type': contentType } : {}) },
        ...(hasBody ? { payload } : {}),
      });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const where = `#${i} ${method} ${url.slice(0, 80)} ${String(payload).slice(0, 120)}`;
      if (response.statusCode >= 500) failures.push(`${where} → ${response.statusCode} ${response.body.slice(0, 200)}`);
      else if (response.statusCode >= 400) {
        const issues = (response.json() as { error?: { issues?: Array<{ path?: string }> } }).error?.issues ?? [];
        if (issues.length === 0 || issues.some((issue) => !issue.path))
          failures.push(`${where} → ${response.statusCode} without a field: ${response.body.slice(0, 200)}`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(300);
    const live = await server.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    const ready = await server.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
  });
});
