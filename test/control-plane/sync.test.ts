import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, dropRedisPrefix, sql, uniquePrefix } from '../sync/helpers.js';
import { auth, startServer, type TestServer } from './helpers.js';

const prefix = uniquePrefix('routes');
process.env.SLUICE_SYNC_KEY_PREFIX = prefix;

describe('sync routes', () => {
  let server: TestServer;
  let a: Awaited<ReturnType<typeof createDatabase>>;
  let b: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    a = await createDatabase('sluice_sync_routes_a');
    b = await createDatabase('sluice_sync_routes_b');
    for (const db of [a, b]) await sql(db.url, 'create table policies (id int primary key, name text, updated_at timestamptz)');
    await sql(a.url, "insert into policies select g, 'policy ' || g, timestamptz '2026-01-01' from generate_series(1, 50) g");
    server = await startServer('pglite');
    for (const [name, db] of [
      ['governance', a],
      ['warehouse', b],
    ] as const) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/v1/datasources/connect',
        headers: auth(),
        payload: { name, type: 'postgresql', config: { url: db.url, table: 'policies' } },
      });
      expect(response.statusCode).toBe(201);
    }
  });

  afterAll(async () => {
    await server?.close();
    await dropRedisPrefix(prefix);
    await a?.drop();
    await b?.drop();
  });

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, role: 'admin' | 'operator' | 'viewer' = 'operator') =>
    server.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: auth(role),
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('creates a rule from the seed document, runs it and reports status, history and state', async () => {
    const rule = {
      rule_id: 'gov_to_wh',
      name: 'Governance to Warehouse',
      source: 'governance',
      target: 'warehouse',
      mode: 'full',
      schedule: '0 */6 * * *',
      filters: { timestamp_column: 'updated_at' },
    };
    const created = await inject('POST', '/sync/rules', rule);
    expect(created.statusCode).toBe(201);
    expect(created.json().rule).toMatchObject({ rule_id: 'gov_to_wh', bidirectional: false });
    expect(created.json().next_run).toMatch(/^\d{4}-/);
    expect((await inject('POST', '/sync/rules', rule)).statusCode).toBe(409);

    const invalid = await inject('POST', '/sync/rules', { ...rule, rule_id: 'bad', mode: 'mirror' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.issues[0].path).toMatch(/mode/);

    expect((await inject('POST', '/sync/execute/gov_to_wh', undefined, 'viewer')).statusCode).toBe(403);
    const run = await inject('POST', '/sync/execute/gov_to_wh?wait=true');
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ status: 'completed', rows_read: 50, rows_inserted: 50, rows_unchanged: 0, state_keys: 50 });
    expect(await sql(b.url, 'select count(*)::int as n from policies')).toEqual([{ n: 50 }]);

    await sql(a.url, "update policies set name = 'changed' where id = 7");
    const background = await inject('POST', '/sync/execute/gov_to_wh');
    expect(background.statusCode).toBe(202);
    let status = (await inject('GET', '/sync/status?rule_id=gov_to_wh', undefined, 'viewer')).json();
    while (status.rules[0].running) status = (await inject('GET', '/sync/status?rule_id=gov_to_wh', undefined, 'viewer')).json();
    expect(status.rules[0]).toMatchObject({
      rule_id: 'gov_to_wh',
      total_syncs: 2,
      successful_syncs: 2,
      failed_syncs: 0,
      state: { keys: 50 },
      open_conflicts: 0,
    });
    expect(status.rules[0].last_run).toMatchObject({ run_id: background.json().run_id, rows_updated: 1, rows_unchanged: 49 });

    const history = (await inject('GET', '/sync/rules/gov_to_wh/history', undefined, 'viewer')).json();
    expect(history.runs.map((r: { rows_inserted: number }) => r.rows_inserted)).toEqual([0, 50]);
    expect((await inject('GET', '/sync/status', undefined, 'viewer')).json().rules.map((r: { rule_id: string }) => r.rule_id)).toContain(
      'gov_to_wh',
    );
  });

  it('lists conflicts parked by the manual strategy and resolves them', async () => {
    const rule = {
      rule_id: 'two_way',
      name: 'Two way',
      source: 'governance',
      target: 'warehouse',
      mode: 'full',
      bidirectional: true,
      conflict_resolution: 'manual',
    };
    expect((await inject('POST', '/sync/rules', rule)).statusCode).toBe(201);
    expect((await inject('POST', '/sync/execute/two_way?wait=true')).json()).toMatchObject({ status: 'completed', conflicts: 0 });
    await sql(a.url, "update policies set name = 'from a' where id = 3");
    await sql(b.url, "update policies set name = 'from b' where id = 3");
    expect((await inject('POST', '/sync/execute/two_way?wait=true')).json()).toMatchObject({
      conflicts: 1,
      writes_to_source: 0,
      writes_to_target: 0,
    });

    const listed = (await inject('GET', '/sync/rules/two_way/conflicts', undefined, 'viewer')).json();
    expect(listed.conflicts).toHaveLength(1);
    expect(listed.conflicts[0]).toMatchObject({ key: '["3"]', source: { id: '3', name: 'from a' }, target: { id: '3', name: 'from b' } });
    expect((await inject('POST', '/sync/rules/two_way/conflicts/resolve', { key: '["4"]', resolution: 'source' })).statusCode).toBe(404);
    const resolved = await inject('POST', '/sync/rules/two_way/conflicts/resolve', { key: '["3"]', resolution: 'target' });
    expect(resolved.json()).toEqual({ key: '["3"]', written_to: 'source' });
    expect(await sql(a.url, 'select name from policies where id = 3')).toEqual([{ name: 'from b' }]);
    expect((await inject('GET', '/sync/rules/two_way/conflicts', undefined, 'viewer')).json().conflicts).toEqual([]);
    expect((await inject('POST', '/sync/execute/two_way?wait=true')).json()).toMatchObject({
      conflicts: 0,
      writes_to_source: 0,
      writes_to_target: 0,
    });
  });

  it('deletes a rule with its state', async () => {
    expect((await inject('DELETE', '/sync/rules/gov_to_wh', undefined, 'operator')).statusCode).toBe(403);
    expect((await inject('DELETE', '/sync/rules/gov_to_wh', undefined, 'admin')).json()).toEqual({ deleted: 'gov_to_wh' });
    expect((await inject('GET', '/sync/rules/gov_to_wh', undefined, 'viewer')).statusCode).toBe(404);
    expect((await inject('DELETE', '/sync/rules/gov_to_wh', undefined, 'admin')).statusCode).toBe(404);
  });
});
