import type { DuckDBConnection } from '@duckdb/node-api';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice, startSluice } from '../support/cli.js';
import { openDuck, query } from '../transforms/support/duck.js';
import { close } from '../transforms/support/run.js';

const ROWS = 300_000;
const BATCH = 2_000;
/** Ten batches of rows a second apart: windows start and end on batch boundaries. */
const WINDOW_MS = 10 * BATCH * 1000;
const REGIONS = ['east', 'west', 'north'];

let db: DuckDBConnection;
beforeAll(async () => {
  db = await openDuck();
});
afterAll(() => db?.closeSync());

async function writeInput(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,ts,region,v\n');
  for (let i = 0; i < ROWS; i++) {
    if (!out.write(`${i},${i * 1000},${REGIONS[i % 3]},${((i * 7919) % 1000) / 10}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** A topology over a fresh copy of the input; `nodes` come after the `input` file source. */
async function setup(name: string, nodes: (dir: string) => Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), `sluice-${name}-`));
  await writeInput(join(dir, 'in.csv'));
  const topology = join(dir, `${name}.json`);
  await writeFile(
    topology,
    JSON.stringify({
      name,
      checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
      dead_letter: { type: 'file', config: { path: join(dir, 'dead.ndjson') } },
      settings: { batch_size: BATCH, max_in_flight: 4 },
      nodes: { input: { type: 'file', config: { path: join(dir, 'in.csv') } }, ...nodes(dir) },
    }),
  );
  return { dir, topology, checkpointFile: join(dir, 'checkpoints', `${name}.json`) };
}

async function lines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function storedPositions(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 6000 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 5));
}

const epochMs = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : Number(value));

/** Output rows by window and region; fails on a window emitted twice. */
function byWindow(rows: Record<string, unknown>[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const row of rows) {
    const key = `${epochMs(row.window_start)}/${String(row.region)}`;
    expect(out.has(key), `window ${key} emitted twice`).toBe(false);
    out.set(key, row);
  }
  return out;
}

/** The oracle: the same windows computed by DuckDB straight from the input file. */
async function oracle(dir: string, value: string): Promise<Map<string, { count: number; sum: number }>> {
  const rows = await query(
    db,
    `WITH t AS (SELECT * FROM read_csv('${join(dir, 'in.csv')}')), s AS (SELECT min(v) AS lo, max(v) AS hi FROM t)
     SELECT (ts // ${WINDOW_MS}) * ${WINDOW_MS} AS window_start, region, count(*) AS n, sum(${value}) AS total FROM t, s GROUP BY ALL`,
  );
  return new Map(rows.map((r) => [`${Number(r.window_start)}/${String(r.region)}`, { count: Number(r.n), sum: Number(r.total) }]));
}

function expectWindows(actual: Map<string, Record<string, unknown>>, expected: Map<string, { count: number; sum: number }>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, row] of actual) {
    const want = expected.get(key)!;
    expect(Number(row.v_count), `count of ${key}`).toBe(want.count);
    expect(close(row.v_sum, want.sum), `sum of ${key}: ${String(row.v_sum)} vs ${want.sum}`).toBe(true);
  }
}

describe('stateful transforms across a crash and a stop', () => {
  it('kill -9 during file -> normalize -> tumbling aggregate: nothing is checkpointed, and the rerun equals the oracle', async () => {
    const { dir, topology, checkpointFile } = await setup('scaled-windows', (d) => ({
      scaled: { type: 'normalize', inputs: ['input'], config: { min_max_columns: ['v'] } },
      windows: {
        type: 'aggregate',
        inputs: ['scaled'],
        config: {
          group_by: ['region'],
          aggregations: { v: ['count', 'sum'] },
          window: { type: 'tumbling', time_column: 'ts', size: WINDOW_MS },
        },
      },
      output: { type: 'file', inputs: ['windows'], config: { path: join(d, 'out.ndjson') } },
      // A plain copy shows from outside how far the read is.
      copy: { type: 'file', inputs: ['input'], config: { path: join(d, 'copy.ndjson') } },
    }));
    const first = startSluice(['run', topology, '--quiet']);
    await waitFor(async () => (await readFile(join(dir, 'copy.ndjson'), 'utf8').catch(() => '')).split('\n').length > 5 * BATCH);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal, killed.stderr + killed.stdout).toBe('SIGKILL');
    // normalize still held every row it had read: no position may have been stored.
    expect(await storedPositions(checkpointFile)).toEqual({});

    const second = await sluice(['run', topology, '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).status).toBe('completed');
    expectWindows(byWindow(await lines(join(dir, 'out.ndjson'))), await oracle(dir, '(v - lo) / (hi - lo)'));
  });

  it('SIGTERM during file -> tumbling aggregate: open windows are not emitted, the rerun resumes and emits each window once', async () => {
    const { dir, topology, checkpointFile } = await setup('stop-windows', (d) => ({
      windows: {
        type: 'aggregate',
        inputs: ['input'],
        config: {
          group_by: ['region'],
          aggregations: { v: ['count', 'sum'] },
          window: { type: 'tumbling', time_column: 'ts', size: WINDOW_MS },
        },
      },
      output: { type: 'file', inputs: ['windows'], config: { path: join(d, 'out.ndjson') } },
    }));
    const expected = await oracle(dir, 'v');
    const first = startSluice(['run', topology, '--json']);
    await waitFor(async () => Object.keys(await storedPositions(checkpointFile)).length > 0);
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).status).toBe('stopped');
    // Only windows that closed before the stop, each complete.
    const beforeStop = byWindow(await lines(join(dir, 'out.ndjson')));
    expect(beforeStop.size).toBeGreaterThan(0);
    expect(beforeStop.size).toBeLessThan(expected.size);
    expectWindows(beforeStop, new Map([...expected].filter(([key]) => beforeStop.has(key))));

    const second = await sluice(['run', topology, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout);
    expect(summary).toMatchObject({ status: 'completed', resumed: true });
    expect(summary.nodes.find((n: { node: string }) => n.node === 'input').rowsIn).toBeLessThan(ROWS);
    expectWindows(byWindow(await lines(join(dir, 'out.ndjson'))), expected);
  });
});
