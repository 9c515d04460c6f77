import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAll } from '../../formats/helpers.js';
import { sluice, startSluice } from '../../support/cli.js';

const ROWS = 100_000;
const BATCH = 1_000;
const IN_FLIGHT = 2;

async function writeCsv(file: string, from: number, count: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,resource\n');
  for (let i = from; i < from + count; i++) {
    if (!out.write(`${i},/subscriptions/s/resourceGroups/rg-${i % 97}/vm-${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The bytes of a file, or of every file of a directory, to compare a target before and after. */
function snapshot(path: string): Record<string, string> {
  if (!statSync(path).isDirectory()) return { '.': readFileSync(path, 'base64') };
  return Object.fromEntries(
    readdirSync(path)
      .sort()
      .map((name) => [name, readFileSync(join(path, name), 'base64')]),
  );
}

async function ids(path: string, format: 'ndjson' | 'parquet'): Promise<number[]> {
  const files =
    format === 'parquet'
      ? readdirSync(path)
          .sort()
          .map((name) => join(path, name))
      : [path];
  const rows = [];
  for (const file of files) rows.push(...(await readAll(file, format)).rows);
  return rows.map((r) => Number(r.id));
}

async function topologyFile(dir: string, name: string, input: string, target: Record<string, unknown>): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
      dead_letter: { type: 'file', config: { path: join(dir, `${name}.dead.ndjson`) } },
      settings: { batch_size: BATCH, max_in_flight: IN_FLIGHT },
      nodes: {
        input: { type: 'file', config: { path: input } },
        output: { type: 'file', inputs: ['input'], config: target },
      },
    }),
  );
  return file;
}

async function checkpointWritten(file: string): Promise<boolean> {
  try {
    return Object.keys(JSON.parse(await readFile(file, 'utf8'))).length > 0;
  } catch {
    return false;
  }
}

describe('file sink replace under kill -9', () => {
  for (const [format, name] of [
    ['parquet', 'dataset'],
    ['ndjson', 'export.ndjson'],
  ] as const) {
    it(`${format}: a run killed mid-way leaves the old dataset intact; the rerun resumes and replaces it whole`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-replace-crash-'));
      const target = { path: join(dir, name), format, mode: 'replace' };
      await writeCsv(join(dir, 'old.csv'), 1_000_000, 1000);
      const old = await sluice(['run', await topologyFile(dir, 'old', join(dir, 'old.csv'), target), '--quiet']);
      expect(old.code, old.stderr).toBe(0);
      const before = snapshot(target.path);
      expect((await ids(target.path, format)).length).toBe(1000);

      await writeCsv(join(dir, 'new.csv'), 0, ROWS);
      const topology = await topologyFile(dir, 'new', join(dir, 'new.csv'), target);
      const checkpointFile = join(dir, 'checkpoints', 'new.json');
      const first = startSluice(['run', topology, '--quiet']);
      for (let i = 0; i < 3000 && !(await checkpointWritten(checkpointFile)); i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      first.child.kill('SIGKILL');
      const killed = await first.done;
      expect(killed.signal, killed.stderr + killed.stdout).toBe('SIGKILL');
      expect(snapshot(target.path)).toEqual(before);
      expect(existsSync(join(dir, `.${name}.replace-staging`))).toBe(true);

      const second = await sluice(['run', topology, '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ status: 'completed', resumed: true });
      const delivered = await ids(target.path, format);
      const distinct = new Set(delivered);
      expect(distinct.size).toBe(ROWS);
      expect(Math.min(...distinct)).toBe(0);
      expect(Math.max(...distinct)).toBe(ROWS - 1);
      // Only what was written but not yet checkpointed when the process died is there twice.
      expect(delivered.length - distinct.size).toBeLessThanOrEqual(IN_FLIGHT * BATCH);
      expect(readdirSync(dir).filter((f) => f.includes('replace') || f.includes('replaced'))).toEqual([]);
    });
  }
});
