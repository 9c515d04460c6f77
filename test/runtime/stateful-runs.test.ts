import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/core/batch.js';
import { SluiceError } from '../../src/core/errors.js';
import type { CheckpointStore } from '../../src/core/ports.js';
import { runTopology } from '../../src/runtime/run-topology.js';
import { RedisCheckpointStore } from '../../src/state/redis-checkpoint-store.js';
import { memorySink, memorySource } from '../support/memory-connector.js';
import { setupTopology, until } from '../support/runtime-setup.js';
import { closedPort, silentServer } from '../support/unresponsive-servers.js';
import '../../src/transforms/index.js';
import '../../src/connectors/file/index.js';
import '../support/test-transforms.js';

/** A store that records every put before passing it to `inner`. */
function recording(inner: CheckpointStore): CheckpointStore & { puts: Position[] } {
  const puts: Position[] = [];
  return {
    puts,
    get: (t, p) => inner.get(t, p),
    list: (t) => inner.list(t),
    delete: (t, p) => inner.delete(t, p),
    close: () => inner.close(),
    put: async (t, p, position) => {
      puts.push(position);
      await inner.put(t, p, position);
    },
  };
}

const sorted = (records: Record<string, unknown>[], key: string) =>
  [...records].sort((a, b) => String(a[key]).localeCompare(String(b[key]), 'en', { numeric: true }));

describe('retention marks combine by minimum along the chain', () => {
  it('a window after a whole-input transform checkpoints nothing before the held rows are out', async () => {
    memorySource('chain', { batches: 6, rowsPerBatch: 2, columns: (ids) => ({ ts: ids.map((id) => id * 1000), v: ids }) });
    const out = memorySink('chain-out');
    const { topology, store } = await setupTopology(
      {
        in: { type: 'memory', config: { id: 'chain' } },
        scaled: { type: 'normalize', inputs: ['in'], config: { min_max_columns: ['v'] } },
        windows: {
          type: 'aggregate',
          inputs: ['scaled'],
          config: { aggregations: { v: ['count', 'sum'] }, window: { type: 'tumbling', time_column: 'ts', size: 4000 } },
        },
        out: { type: 'memory', inputs: ['windows'], config: { id: 'chain-out' } },
      },
      { max_in_flight: 1 },
    );
    const spy = recording(store);
    const summary = await runTopology(topology, { checkpoints: spy });
    expect(summary.status).toBe('completed');
    // normalize holds every row until the end: no earlier position may be stored, whatever the window does.
    expect(spy.puts).toEqual([6]);
    // Ids 0..11 scaled by 1/11, four per window.
    expect(sorted(out.records, 'window_start').map((r) => [r.window_start, r.v_count, Math.round((r.v_sum as number) * 11)])).toEqual([
      [0, 4n, 6],
      [4000, 4n, 22],
      [8000, 4n, 38],
    ]);
  });

  it('a window fed by a window holds the batches the rows it keeps came from', async () => {
    // Each batch is one 2 s window of the first level; it is emitted with the next batch.
    memorySource('rollup', { batches: 6, rowsPerBatch: 2, columns: (ids) => ({ ts: ids.map((id) => id * 1000) }) });
    const out = memorySink('rollup-out');
    const { topology, store } = await setupTopology(
      {
        in: { type: 'memory', config: { id: 'rollup' } },
        seconds: {
          type: 'aggregate',
          inputs: ['in'],
          config: { aggregations: { id: 'count' }, window: { type: 'tumbling', time_column: 'ts', size: '2s' } },
        },
        rollup: {
          type: 'aggregate',
          inputs: ['seconds'],
          config: { aggregations: { id_count: 'sum' }, window: { type: 'tumbling', time_column: 'window_start', size: '4s' } },
        },
        out: { type: 'memory', inputs: ['rollup'], config: { id: 'rollup-out' } },
      },
      { max_in_flight: 1 },
    );
    const spy = recording(store);
    expect((await runTopology(topology, { checkpoints: spy })).status).toBe('completed');
    // The 4 s window [0, 4 s) closes at batch 3 and holds the rows of batches 0 and 1; the
    // next one closes at batch 5 and holds batches 2 and 3: a resume from 2, then from 4, loses nothing.
    expect(spy.puts).toEqual([2, 4, 6]);
    expect(out.records.map((r) => [r.window_start, r.id_count_sum])).toEqual([
      [0, 4],
      [4000, 4],
      [8000, 4],
    ]);
  });
});

describe('a stop is not an end of input', () => {
  const sales = [
    { region: 'east', amount: 1 },
    { region: 'west', amount: 10 },
    { region: 'east', amount: 1 },
    { region: 'west', amount: 20 },
    { region: 'east', amount: 1 },
    { region: 'west', amount: 0 },
  ];

  it('a whole-input aggregate does not emit on a stop; the resumed run emits the exact result once', async () => {
    const src = memorySource('stop-agg', {
      batches: 6,
      rowsPerBatch: 1,
      pauseAt: 3,
      columns: (ids) => ({ region: ids.map((i) => sales[i].region), amount: ids.map((i) => sales[i].amount) }),
    });
    const out = memorySink('stop-agg-out');
    const { topology, store, name } = await setupTopology({
      in: { type: 'memory', config: { id: 'stop-agg' } },
      totals: { type: 'aggregate', inputs: ['in'], config: { group_by: ['region'], aggregations: { amount: 'sum' } } },
      out: { type: 'memory', inputs: ['totals'], config: { id: 'stop-agg-out' } },
    });
    const stop = new AbortController();
    const running = runTopology(topology, { checkpoints: store, signal: stop.signal });
    await until(() => src.emitted === 3);
    stop.abort();
    expect((await running).status).toBe('stopped');
    expect(out.records).toEqual([]);
    // The aggregate still retains the first batch: the checkpoint stays before it.
    expect(await store.list(name)).toEqual({});

    src.pauseAt = undefined;
    expect((await runTopology(topology, { checkpoints: store })).status).toBe('completed');
    expect(src.readFrom).toEqual([undefined, undefined]);
    expect(sorted(out.records, 'region')).toEqual([
      { region: 'east', amount_sum: 3 },
      { region: 'west', amount_sum: 30 },
    ]);
  });

  it('open windows do not emit on a stop and the checkpoint stays at their first batch; the resumed run completes each window once', async () => {
    // Two rows a batch, a second apart; 8 s windows hold four batches each.
    const src = memorySource('stop-windows', {
      batches: 0,
      rowsPerBatch: 2,
      endless: true,
      pauseAt: 10,
      columns: (ids) => ({ ts: ids.map((id) => id * 1000) }),
    });
    const out = memorySink('stop-windows-out');
    const { topology, store, name } = await setupTopology({
      in: { type: 'memory', config: { id: 'stop-windows' } },
      windows: {
        type: 'aggregate',
        inputs: ['in'],
        config: { aggregations: { id: ['count', 'min', 'max'] }, window: { type: 'tumbling', time_column: 'ts', size: '8s' } },
      },
      out: { type: 'memory', inputs: ['windows'], config: { id: 'stop-windows-out' } },
    });
    let stop = new AbortController();
    let running = runTopology(topology, { checkpoints: store, signal: stop.signal });
    await until(() => src.emitted === 10);
    stop.abort();
    expect((await running).status).toBe('stopped');
    // Batches 0-7 closed two windows; batches 8 and 9 are in the open one, which is not emitted.
    expect(out.records.map((r) => r.id_count)).toEqual([8n, 8n]);
    expect((await store.list(name))['in/p0']).toBe(8);

    src.pauseAt = 14;
    stop = new AbortController();
    running = runTopology(topology, { checkpoints: store, signal: stop.signal });
    await until(() => src.emitted === 16);
    stop.abort();
    expect((await running).status).toBe('stopped');
    expect(src.readFrom).toEqual([undefined, 8]);
    expect(out.records.map((r) => [r.window_start, r.id_count, r.id_min, r.id_max])).toEqual([
      [0, 8n, 0, 7],
      [8000, 8n, 8, 15],
      [16_000, 8n, 16, 23],
    ]);
    expect((await store.list(name))['in/p0']).toBe(12);
  });
});

describe('a failed checkpoint fails the run', () => {
  const brokenRedis = {
    'refuses connections': async () => ({ port: await closedPort(), close: async () => undefined }),
    'never answers': silentServer,
  };
  for (const [how, broken] of Object.entries(brokenRedis)) {
    it(`with every credit in flight, a Redis that ${how} fails the run with its error after the retries`, async () => {
      memorySource(`ckpt-${how}`, { batches: 5, rowsPerBatch: 1 });
      memorySink(`ckpt-${how}-out`);
      const { topology, name } = await setupTopology(
        {
          in: { type: 'memory', config: { id: `ckpt-${how}` } },
          out: { type: 'memory', inputs: ['in'], config: { id: `ckpt-${how}-out` } },
        },
        { max_in_flight: 1 },
      );
      const prefix = `sluice:test:${process.pid}:${name}:`;
      const server = await broken();
      const redis = new RedisCheckpointStore('redis://127.0.0.1:6379', prefix);
      const gone = new RedisCheckpointStore(`redis://127.0.0.1:${server.port}`, prefix, { commandTimeoutMs: 200 });
      let puts = 0;
      // Two checkpoints reach Redis, then it is gone.
      const failing: CheckpointStore = {
        get: (t, p) => redis.get(t, p),
        list: (t) => redis.list(t),
        delete: (t, p) => redis.delete(t, p),
        close: async () => undefined,
        put: (t, p, position) => (++puts <= 2 ? redis : gone).put(t, p, position),
      };
      try {
        const summary = await runTopology(topology, { checkpoints: failing });
        expect(summary.status).toBe('failed');
        expect(summary.error).toMatch(/redis checkpoint store/);
        // The first attempt and checkpoint_retries (3) more.
        expect(puts).toBe(2 + 4);
        expect(await redis.list(name)).toEqual({ 'in/p0': 2 });
      } finally {
        await redis.delete(name, 'in/p0');
        await Promise.all([redis.close(), gone.close()]);
        await server.close();
      }
    });
  }

  it('a checkpoint write that fails once is retried and the run completes', async () => {
    memorySource('ckpt-blip', { batches: 5, rowsPerBatch: 1 });
    const out = memorySink('ckpt-blip-out');
    const { topology, store } = await setupTopology(
      {
        in: { type: 'memory', config: { id: 'ckpt-blip' } },
        out: { type: 'memory', inputs: ['in'], config: { id: 'ckpt-blip-out' } },
      },
      { max_in_flight: 1 },
    );
    const spy = recording(store);
    const blip: CheckpointStore = {
      ...spy,
      put: async (t, p, position) => {
        if (spy.puts.length === 2 && !spy.puts.includes('failed')) {
          spy.puts.push('failed');
          throw new SluiceError('SLUICE_CHECKPOINT_FAILED', 'connection reset');
        }
        await spy.put(t, p, position);
      },
    };
    const summary = await runTopology(topology, { checkpoints: blip });
    expect(summary.status).toBe('completed');
    expect(spy.puts).toEqual([1, 2, 'failed', 3, 4, 5]);
    expect(out.rows).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('after an aggregate', () => {
  it('a filter on an aggregate column runs (a HAVING): empty answers carry the output schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-having-'));
    const times = [0, 10, 11, 12, 20, 21, 30, 41, 42, 43, 44];
    await writeFile(join(dir, 'events.csv'), `ts,v\n${times.map((t, i) => `${t * 1000},${i}`).join('\n')}\n`);
    const out = memorySink('having-out');
    const { topology, store } = await setupTopology(
      {
        in: { type: 'file', config: { path: join(dir, 'events.csv') } },
        windows: {
          type: 'aggregate',
          inputs: ['in'],
          config: { aggregations: { v: ['count', 'sum'] }, window: { type: 'tumbling', time_column: 'ts', size: '10s' } },
        },
        busy: { type: 'filter', inputs: ['windows'], config: { condition: 'v_count >= 2' } },
        out: { type: 'memory', inputs: ['busy'], config: { id: 'having-out' } },
      },
      { batch_size: 2 },
    );
    const summary = await runTopology(topology, { checkpoints: store });
    expect(summary.error).toBeUndefined();
    expect(summary.status).toBe('completed');
    expect(out.records.map((r) => [r.window_start, r.v_count, r.v_sum])).toEqual([
      [10_000, 3n, 1 + 2 + 3],
      [20_000, 2n, 4 + 5],
      [40_000, 4n, 7 + 8 + 9 + 10],
    ]);
  });
});
