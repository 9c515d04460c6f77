import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import { createDatabase, sql } from './pg-helpers.js';
import { WORKLOAD_DDL, dumpTables, prng, runWorkload } from './workload.js';

const root = new URL('../../../', import.meta.url).pathname;

/**
 * The real `sluice run` process on a PG CDC → PG topology (one routing sink for the three tables,
 * plus an NDJSON file of every change delivered, to count replays), killed with SIGKILL at random
 * moments while a workload runs, and started again each time.
 */
describe('sluice run of PG CDC → PG under kill -9', () => {
  let src: Awaited<ReturnType<typeof createDatabase>>;
  let dst: Awaited<ReturnType<typeof createDatabase>>;
  let dir: string;
  beforeAll(async () => {
    src = await createDatabase('sluice_cli_crash_src');
    dst = await createDatabase('sluice_cli_crash_dst');
    dir = mkdtempSync(join(tmpdir(), 'sluice-cli-crash-'));
  });
  afterAll(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends with the target equal to the source, every change delivered at least once', async () => {
    await sql(src.url, WORKLOAD_DDL + '; create publication cli_crash for table a, b, c');
    await sql(dst.url, WORKLOAD_DDL);
    await runWorkload(src.url, 500, 31, 0);
    const [{ n: snapshotRows }] = await sql<{ n: number }>(
      src.url,
      'select ((select count(*) from a) + (select count(*) from b) + (select count(*) from c))::int as n',
    );
    const name = `cli-crash-${process.pid}`;
    const checkpoints = join(dir, 'checkpoints');
    const changes = join(dir, 'changes.ndjson');
    const topology = join(dir, 'topology.json');
    writeFileSync(
      topology,
      JSON.stringify({
        name,
        checkpoint: { store: 'file', path: checkpoints },
        dead_letter: { type: 'file', config: { path: join(dir, 'dead-letter.ndjson'), format: 'ndjson' } },
        settings: { batch_size: 500, max_in_flight: 4 },
        nodes: {
          source: {
            type: 'postgresql',
            config: {
              url: '${env:PG_SOURCE_URL}',
              mode: 'cdc',
              slot: `cli_crash_${process.pid}`,
              publication: 'cli_crash',
              heartbeat_ms: 200,
            },
          },
          target: { type: 'postgresql', inputs: ['source'], config: { url: '${env:PG_TARGET_URL}', target_schema: 'public' } },
          audit: { type: 'file', inputs: ['source'], config: { path: changes, format: 'ndjson' } },
        },
      }),
    );

    let exits = 0;
    let stopping = false;
    let child: ChildProcess;
    const start = () => {
      child = spawn(process.execPath, [join(root, 'bin/sluice.js'), 'run', topology, '--quiet'], {
        cwd: root,
        env: { ...process.env, PG_SOURCE_URL: src.url, PG_TARGET_URL: dst.url },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      // A restart can fail while the killed run's walsender still holds the slot: start again.
      child.once('exit', () => {
        if (stopping) return;
        exits++;
        setTimeout(start, 300);
      });
    };
    const kill = async () => {
      const current = child;
      const exited = new Promise((r) => current.once('exit', r));
      stopping = true;
      current.kill('SIGKILL');
      await exited;
      stopping = false;
    };

    start();
    await waitForCheckpoint(join(checkpoints, `${name}.json`), 1n);
    const random = prng(5);
    const workload = runWorkload(src.url, 5000, 32, 1_000_000);
    let finished = false;
    void workload.then(() => (finished = true));
    let kills = 0;
    while (kills < 5 || !finished) {
      await new Promise((r) => setTimeout(r, 1500 + random() * 2500));
      await kill();
      kills++;
      start();
    }
    await workload;
    const target = parseLsn((await sql<{ lsn: string }>(src.url, 'select pg_current_wal_lsn()::text as lsn'))[0].lsn);
    try {
      await waitForCheckpoint(join(checkpoints, `${name}.json`), target);
    } finally {
      await kill();
    }
    expect(await dumpTables(dst.url)).toEqual(await dumpTables(src.url));
    // Each workload operation changes one row; the surplus in the change file is what kills replayed.
    const expected = snapshotRows + 5000;
    const delivered = readFileSync(changes, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{')).length;
    expect(delivered).toBeGreaterThanOrEqual(expected);
    process.stderr.write(
      `sluice run crash test: ${kills} kills, ${exits} failed restarts, ${delivered} change rows delivered for ${expected} changes: ${delivered - expected} duplicates\n`,
    );
    expect(kills).toBeGreaterThanOrEqual(5);
  }, 400_000);
});

/** Waits until the file store holds a streaming position at or past an LSN for the source. */
async function waitForCheckpoint(file: string, lsn: bigint): Promise<void> {
  for (let i = 0; i < 1800; i++) {
    const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { lsn: string; snapshot?: string }>) : {};
    const position = Object.values(stored)[0];
    if (position && !position.snapshot && parseLsn(position.lsn) >= lsn) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`checkpoint never reached ${String(lsn)}`);
}
