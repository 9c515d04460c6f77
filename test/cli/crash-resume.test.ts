import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { sluice, startSluice } from '../support/cli.js';

const ROWS = 200_000;
const BATCH = 2_000;
const IN_FLIGHT = 4;

async function writeInput(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,resource,cost\n');
  for (let i = 0; i < ROWS; i++) {
    if (!out.write(`${i},/subscriptions/s/resourceGroups/rg-${i % 97}/vm-${i},${(i % 1000) / 10}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function checkpointWritten(file: string): Promise<boolean> {
  try {
    return Object.keys(JSON.parse(await readFile(file, 'utf8'))).length > 0;
  } catch {
    return false;
  }
}

async function setup(): Promise<{ dir: string; topology: string; checkpointFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-crash-'));
  await writeInput(join(dir, 'in.csv'));
  const topology = join(dir, 'crash.json');
  await writeFile(
    topology,
    JSON.stringify({
      name: 'crash',
      checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
      dead_letter: { type: 'file', config: { path: join(dir, 'dead.ndjson') } },
      settings: { batch_size: BATCH, max_in_flight: IN_FLIGHT },
      nodes: {
        input: { type: 'file', config: { path: join(dir, 'in.csv') } },
        output: { type: 'file', inputs: ['input'], config: { path: join(dir, 'out.ndjson') } },
      },
    }),
  );
  return { dir, topology, checkpointFile: join(dir, 'checkpoints', 'crash.json') };
}

async function outputIds(dir: string): Promise<number[]> {
  const lines = (await readFile(join(dir, 'out.ndjson'), 'utf8')).split('\n').filter((l) => l !== '');
  return lines.map((l) => JSON.parse(l).id as number);
}

describe('crash and resume', () => {
  it('after kill -9 a rerun resumes from the checkpoint and every input row is delivered', async () => {
    const { dir, topology, checkpointFile } = await setup();
    const first = startSluice(['run', topology, '--quiet']);
    for (let i = 0; i < 3000 && !(await checkpointWritten(checkpointFile)); i++) await new Promise((r) => setTimeout(r, 5));
    // Then a random moment later, while batches are in flight.
    await new Promise((r) => setTimeout(r, Math.random() * 400));
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal, killed.stderr + killed.stdout).toBe('SIGKILL');
    const stored = JSON.parse(await readFile(checkpointFile, 'utf8'));
    expect(Object.keys(stored)).toHaveLength(1);

    const second = await sluice(['run', topology, '--json']);
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout);
    expect(summary.status).toBe('completed');
    expect(summary.resumed).toBe(true);
    const read = summary.nodes.find((n: { node: string }) => n.node === 'input').rowsIn;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(ROWS);

    const ids = await outputIds(dir);
    const distinct = new Set(ids);
    expect(distinct.size).toBe(ROWS);
    for (let i = 0; i < ROWS; i += 9973) expect(distinct.has(i)).toBe(true);
    const duplicates = ids.length - distinct.size;
    // Only the window written but not yet checkpointed when the process died is delivered twice.
    expect(duplicates).toBeLessThanOrEqual(IN_FLIGHT * BATCH);
    console.info(
      `crash test: killed after checkpoint ${JSON.stringify(stored)}; rerun read ${read} of ${ROWS} rows; ${duplicates} duplicates`,
    );
  });

  it('SIGTERM stops gracefully: exit 0, everything delivered is checkpointed, the rerun repeats nothing', async () => {
    const { dir, topology, checkpointFile } = await setup();
    const first = startSluice(['run', topology, '--json']);
    for (let i = 0; i < 3000 && !(await checkpointWritten(checkpointFile)); i++) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    const summary = JSON.parse(stopped.stdout);
    expect(summary.status).toBe('stopped');
    const delivered = await outputIds(dir);
    expect(delivered.length).toBe(summary.nodes.find((n: { node: string }) => n.node === 'output').rowsOut);
    expect(delivered.length).toBeLessThan(ROWS);

    const second = await sluice(['run', topology, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).resumed).toBe(true);
    const ids = await outputIds(dir);
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i));
  });
});
