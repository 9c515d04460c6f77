import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import { createDatabase, sql } from './pg-helpers.js';
import { WORKLOAD_DDL, dumpTables, runWorkload } from './workload.js';

const here = new URL('.', import.meta.url).pathname;

describe('postgresql cdc killed right after creating its slot', () => {
  let src: Awaited<ReturnType<typeof createDatabase>>;
  let dst: Awaited<ReturnType<typeof createDatabase>>;
  let dir: string;
  beforeAll(async () => {
    src = await createDatabase('sluice_window_src');
    dst = await createDatabase('sluice_window_dst');
    dir = mkdtempSync(join(tmpdir(), 'sluice-window-'));
  });
  afterAll(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('snapshots on restart instead of streaming from the fresh slot', async () => {
    await sql(src.url, WORKLOAD_DDL + '; create publication crash for table a, b, c');
    await sql(dst.url, WORKLOAD_DDL);
    await runWorkload(src.url, 300, 21, 0);
    const slot = `window_${process.pid}`;
    const checkpoint = join(dir, 'checkpoint.json');
    const run = (...extra: string[]) =>
      spawn(
        process.execPath,
        ['--import', 'tsx', join(here, 'cdc-crash-worker.ts'), src.url, dst.url, checkpoint, join(dir, 'log'), slot, ...extra],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );

    const first = run('exit-after-slot');
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => first.once('exit', (c, s) => resolve([c, s])));
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    // Died with the slot created and nothing of the snapshot written: the checkpoint is the marker.
    expect(await sql(src.url, 'select slot_name from pg_replication_slots where slot_name = $1', [slot])).toHaveLength(1);
    expect(JSON.parse(readFileSync(checkpoint, 'utf8'))).toMatchObject({ snapshot: 'running' });
    expect(await sql(dst.url, 'select count(*)::int as n from a')).toEqual([{ n: 0 }]);

    await sql(src.url, 'delete from a where id in (select id from a order by id limit 5)');
    const second = run();
    try {
      const target = parseLsn((await sql<{ lsn: string }>(src.url, 'select pg_current_wal_lsn()::text as lsn'))[0].lsn);
      await waitForCheckpoint(checkpoint, target);
    } finally {
      const exited = new Promise((r) => second.once('exit', r));
      second.kill('SIGKILL');
      await exited;
    }
    const expected = await dumpTables(src.url);
    expect(expected.a.length).toBeGreaterThan(0);
    expect(await dumpTables(dst.url)).toEqual(expected);
  }, 120_000);
});

/** Waits until the checkpoint file holds a streaming position at or past an LSN. */
async function waitForCheckpoint(file: string, lsn: bigint): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const position = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { lsn: string; snapshot?: string }) : undefined;
    if (position && !position.snapshot && parseLsn(position.lsn) >= lsn) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`checkpoint never reached ${String(lsn)}`);
}
