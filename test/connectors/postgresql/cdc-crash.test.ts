import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import { createDatabase, sql } from './pg-helpers.js';
import { WORKLOAD_DDL, dumpTables, prng, runWorkload } from './workload.js';

const here = new URL('.', import.meta.url).pathname;

describe('postgresql cdc under kill -9', () => {
  let src: Awaited<ReturnType<typeof createDatabase>>;
  let dst: Awaited<ReturnType<typeof createDatabase>>;
  let dir: string;
  beforeAll(async () => {
    src = await createDatabase('sluice_crash_src');
    dst = await createDatabase('sluice_crash_dst');
    dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  });
  afterAll(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the target equal to the source when the pipeline is killed at random moments and restarted', async () => {
    await sql(src.url, WORKLOAD_DDL + '; create publication crash for table a, b, c');
    await sql(dst.url, WORKLOAD_DDL);
    await runWorkload(src.url, 1000, 11, 0);
    const [{ n: snapshotRows }] = await sql<{ n: number }>(
      src.url,
      'select ((select count(*) from a) + (select count(*) from b) + (select count(*) from c))::int as n',
    );
    const checkpoint = join(dir, 'checkpoint.json');
    const log = join(dir, 'deliveries.log');
    const start = (): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', join(here, 'cdc-crash-worker.ts'), src.url, dst.url, checkpoint, log], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    const random = prng(7);
    let worker = start();
    // The snapshot first (its handoff is covered elsewhere); the kills then hit streaming.
    await waitForCheckpoint(checkpoint, 1n);
    const workload = runWorkload(src.url, 10_000, 12, 1_000_000);
    // Each operation of the workload changes exactly one row: one change row each.
    const expected = snapshotRows + 10_000;
    let kills = 0;
    let finished = false;
    void workload.then(() => (finished = true));
    while (kills < 5 || !finished) {
      await new Promise((r) => setTimeout(r, 1000 + random() * 2000));
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      kills++;
      worker = start();
    }
    await workload;
    const target = parseLsn((await sql<{ lsn: string }>(src.url, 'select pg_current_wal_lsn()::text as lsn'))[0].lsn);
    try {
      await waitForCheckpoint(checkpoint, target);
    } finally {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGKILL');
      await exited;
    }
    expect(await dumpTables(dst.url)).toEqual(await dumpTables(src.url));
    // Every change at least once; the surplus is what kills made the pipeline deliver again.
    const deliveries = readFileSync(log, 'utf8');
    const total = delivered(deliveries);
    expect(total).toBeGreaterThanOrEqual(expected);
    process.stderr.write(
      `cdc crash test: ${kills} kills, ${total} change rows delivered for ${expected} changes: ${total - expected} duplicates\n`,
    );
    expect(kills).toBeGreaterThanOrEqual(5);
  }, 300_000);
});

/** Waits until the checkpoint file holds a streaming position at or past an LSN. */
async function waitForCheckpoint(file: string, lsn: bigint): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const position = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { lsn: string; snapshot?: string }) : undefined;
    if (position && !position.snapshot && parseLsn(position.lsn) >= lsn) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`checkpoint never reached ${String(lsn)}`);
}

function delivered(log: string): number {
  return log
    .split('\n')
    .filter((l) => l.startsWith('W '))
    .reduce((n, l) => n + Number(l.slice(2)), 0);
}
