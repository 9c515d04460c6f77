import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, sql } from './pg-helpers.js';

const here = new URL('.', import.meta.url).pathname;

/** Runs the worker to its end: its exit code or the signal that killed it, and its output. */
function runWorker(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'replace-crash-worker.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
}

describe('postgresql replace under kill -9', () => {
  let src: Awaited<ReturnType<typeof createDatabase>>;
  let dst: Awaited<ReturnType<typeof createDatabase>>;
  let dir: string;
  beforeAll(async () => {
    src = await createDatabase('sluice_replace_src');
    dst = await createDatabase('sluice_replace_dst');
    dir = mkdtempSync(join(tmpdir(), 'sluice-replace-crash-'));
  });
  afterAll(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every row when the process is killed after the swap and before its checkpoints are deleted', async () => {
    await sql(src.url, "create table src (id int primary key, v text); insert into src select g, 'v' || g from generate_series(1, 1000) g");
    await sql(dst.url, "create table dst (id int primary key, v text); insert into dst select g, 'old' from generate_series(1, 5) g");
    const rows = () => sql(dst.url, 'select id, v from dst order by id');
    const expected = await sql(src.url, 'select id, v from src order by id');

    const killed = await runWorker([src.url, dst.url, dir, 'kill-after-finish']);
    expect(killed.signal).toBe('SIGKILL');
    // The swap committed before the kill, and the checkpoints of the run are still there.
    expect(await rows()).toEqual(expected);
    expect(readdirSync(dir).some((f) => f.includes('replace-crash'))).toBe(true);

    // Rows that arrive before the resume are all the resumed read finds past its checkpoints.
    await sql(src.url, "insert into src select g, 'late' || g from generate_series(1001, 1010) g");
    const resumed = await runWorker([src.url, dst.url, dir]);
    expect(resumed.output).toContain('completed');
    expect(resumed.code).toBe(0);
    // The resumed run completes the run whose replace was published: the target keeps it whole.
    expect(await rows()).toEqual(expected);

    // The next run starts over and replaces the table again, with what the source holds now.
    await sql(src.url, 'delete from src where id = 1');
    expect((await runWorker([src.url, dst.url, dir])).code).toBe(0);
    expect(await rows()).toEqual(await sql(src.url, 'select id, v from src order by id'));
  }, 120_000);
});
