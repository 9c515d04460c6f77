import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/control-plane/app.js';
import { API_KEYS, auth, PGURL, query, SECRET_KEY, silent } from '../control-plane/helpers.js';
import { serveUrl, startSluice } from '../support/cli.js';

describe('sluice serve on SIGTERM', () => {
  it('stops a run whose sink waits on a lock within abort_grace_ms, exits 0 and records the run interrupted', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sluice-serve-stop-'));
    // Names the pipeline's connection so only this test's backend is watched and terminated.
    const marker = `sluice_stuck_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const pgUrl = new URL(PGURL);
    pgUrl.searchParams.set('application_name', marker);
    const waiting = `select pid from pg_stat_activity where application_name = '${marker}' and wait_event_type = 'Lock'`;
    const table = `${marker}_target`;
    await query(PGURL, `create table ${table} (n integer)`);
    // Holds the target table, so the load's write waits on the lock for as long as the test wants.
    const holder = new pg.Client({ connectionString: PGURL });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`lock table ${table} in access exclusive mode`);
    const serve = startSluice(['serve', '--port', '0', '--state-dir', stateDir], {
      env: { SLUICE_API_KEYS: API_KEYS, SLUICE_SECRET_KEY: SECRET_KEY, SLUICE_DATABASE_URL: '', SLUICE_LOG_LEVEL: 'warn' },
    });
    try {
      const url = await serveUrl(serve);
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { ...auth('admin'), ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }).then((r) => r.json());
      await call('POST', '/api/v1/datasources/connect', { name: 'pg', type: 'postgresql', config: { url: pgUrl.toString() } });
      await call('POST', '/api/v1/pipelines', {
        pipeline_id: 'stuck',
        settings: { abort_grace_ms: 500 },
        steps: [
          { id: 'extract', type: 'extract', config: { source: 'pg', query: 'select 1 as n' } },
          { id: 'load', type: 'load', depends_on: ['extract'], config: { target: 'pg', table_name: table, mode: 'append' } },
        ],
      });
      const run = await call('POST', '/api/v1/pipelines/stuck/run');
      for (let i = 0; i < 400 && (await query(PGURL, waiting)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await query(PGURL, waiting)).toHaveLength(1);

      serve.child.kill('SIGTERM');
      const exited = await serve.done;
      expect(exited.code, exited.stderr).toBe(0);

      const app = await buildApp({ stateDir, apiKeys: API_KEYS, env: { SLUICE_SECRET_KEY: SECRET_KEY }, logger: silent });
      try {
        const after = (await app.inject({ method: 'GET', url: `/api/v1/pipelines/runs/${run.run_id}`, headers: auth('viewer') })).json();
        expect(after.status).toBe('interrupted');
        expect(after.error).toBe('the server stopped while the run was in progress');
        expect(Object.fromEntries(after.steps.map((s: { step_id: string; status: string }) => [s.step_id, s.status]))).toEqual({
          extract: 'completed',
          load: 'interrupted',
        });
      } finally {
        await app.close();
      }
    } finally {
      serve.child.kill('SIGKILL');
      await query(PGURL, `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${marker}'`);
      await holder.end();
      await query(PGURL, `drop table if exists ${table}`);
    }
  }, 120_000);
});
