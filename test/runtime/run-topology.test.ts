import { describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/core/metrics.js';
import { runTopology } from '../../src/runtime/run-topology.js';
import { gate, memorySink, memorySource } from '../support/memory-connector.js';
import { setupTopology as setup, until } from '../support/runtime-setup.js';
import '../support/test-transforms.js';

describe('runTopology', () => {
  it('delivers every row of a bounded source and removes the checkpoint on completion', async () => {
    const src = memorySource('bounded', { batches: 5, rowsPerBatch: 10 });
    const out = memorySink('bounded-out');
    const { topology, store, name } = await setup({
      in: { type: 'memory', config: { id: 'bounded' } },
      out: { type: 'memory', inputs: ['in'], config: { id: 'bounded-out' } },
    });
    const summary = await runTopology(topology, { checkpoints: store });
    expect(summary.status).toBe('completed');
    expect(out.rows).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(src.commits.at(-1)).toBe(5);
    expect(await store.list(name)).toEqual({});
    expect(summary.nodes.find((n) => n.node === 'out')).toMatchObject({ rowsIn: 50, rowsOut: 50 });
    expect(out.finished).toBe(true);
    const exposed = await metricsRegistry.getSingleMetricAsString('sluice_node_rows_total');
    expect(exposed).toContain(`sluice_node_rows_total{topology="${name}",node="out",kind="sink",direction="out"} 50`);
    expect(exposed).toContain(`sluice_node_rows_total{topology="${name}",node="in",kind="source",direction="in"} 50`);
  });

  it('checkpoints a batch only after every sink it fanned out to acknowledged it', async () => {
    memorySource('fan', { batches: 3, rowsPerBatch: 2, endless: false });
    const fast = memorySink('fan-fast');
    const slow = memorySink('fan-slow');
    const hold = gate();
    slow.gate = hold.promise;
    const { topology, store, name } = await setup({
      in: { type: 'memory', config: { id: 'fan' } },
      fast: { type: 'memory', inputs: ['in'], config: { id: 'fan-fast' } },
      slow: { type: 'memory', inputs: ['in'], config: { id: 'fan-slow' } },
    });
    const positions: unknown[] = [];
    const spy = {
      ...store,
      list: (t: string) => store.list(t),
      get: (t: string, p: string) => store.get(t, p),
      delete: (t: string, p: string) => store.delete(t, p),
      close: () => store.close(),
      put: async (t: string, p: string, position: never) => {
        positions.push({ position, fast: fast.writes, slow: slow.writes });
        await store.put(t, p, position);
      },
    };
    const running = runTopology(topology, { checkpoints: spy });
    await until(() => fast.writes === 3);
    expect(positions).toEqual([]);
    expect(await store.list(name)).toEqual({});
    hold.open();
    slow.gate = undefined;
    const summary = await running;
    expect(summary.status).toBe('completed');
    expect(positions.length).toBeGreaterThan(0);
    for (const p of positions as Array<{ position: number; slow: number }>) expect(p.slow).toBeGreaterThanOrEqual(p.position);
  });

  it('stops reading when a sink blocks: at most max_in_flight batches leave the source', async () => {
    const src = memorySource('bp', { batches: 200, rowsPerBatch: 1 });
    const out = memorySink('bp-out');
    const hold = gate();
    out.gate = hold.promise;
    const { topology, store } = await setup(
      {
        in: { type: 'memory', config: { id: 'bp' } },
        out: { type: 'memory', inputs: ['in'], config: { id: 'bp-out' } },
      },
      { max_in_flight: 4 },
    );
    const running = runTopology(topology, { checkpoints: store });
    await until(() => src.emitted === 4);
    await new Promise((r) => setTimeout(r, 200));
    expect(src.emitted).toBe(4);
    hold.open();
    out.gate = undefined;
    expect((await running).status).toBe('completed');
    expect(out.rows.length).toBe(200);
  });

  it('stops an unbounded run gracefully on abort: drains, checkpoints what was delivered, keeps it', async () => {
    const src = memorySource('endless', { batches: 0, rowsPerBatch: 3, endless: true });
    const out = memorySink('endless-out');
    const { topology, store, name } = await setup({
      in: { type: 'memory', config: { id: 'endless' } },
      out: { type: 'memory', inputs: ['in'], config: { id: 'endless-out' } },
    });
    const stop = new AbortController();
    const running = runTopology(topology, { checkpoints: store, signal: stop.signal });
    await until(() => out.writes >= 5);
    stop.abort();
    const summary = await running;
    expect(summary.status).toBe('stopped');
    expect(out.finished).toBeUndefined();
    const stored = (await store.list(name))['in/p0'];
    expect(stored).toBe(out.writes);
    expect(out.rows.length).toBe(out.writes * 3);
    expect(src.commits.at(-1)).toBe(stored);

    // The next run resumes where the last one stopped.
    const again = new AbortController();
    const rerun = runTopology(topology, { checkpoints: store, signal: again.signal });
    await until(() => src.readFrom.length === 2);
    again.abort();
    await rerun;
    expect(src.readFrom[1]).toBe(stored);
    expect(out.opened?.resuming).toBe(true);
  });

  it('a hard stop aborts the sink write in progress through its signal and starts no other write', async () => {
    memorySource('hard', { batches: 50, rowsPerBatch: 2 });
    const out = memorySink('hard-out');
    out.gate = gate().promise;
    out.honourSignal = true;
    const { topology, store, name } = await setup(
      {
        in: { type: 'memory', config: { id: 'hard' } },
        out: { type: 'memory', inputs: ['in'], config: { id: 'hard-out' } },
      },
      { max_in_flight: 4, sink_retries: 3 },
    );
    const stop = new AbortController();
    const running = runTopology(topology, { checkpoints: store, signal: stop.signal, writeSignal: stop.signal });
    await until(() => out.signals.length === 1);
    stop.abort();
    const summary = await running;
    expect(summary.status).not.toBe('completed');
    // One write started, got the signal, and was aborted; the queued batches were never written, nor retried.
    expect(out.signals).toHaveLength(1);
    expect(out.signals[0]).toBe(stop.signal);
    expect(out.rows).toEqual([]);
    expect(out.finished).toBeUndefined();
    expect(await store.list(name)).toEqual({});
  });

  it('dead-letters bad records before checkpointing and the counts reconcile', async () => {
    memorySource('dead', { batches: 4, rowsPerBatch: 10, deadEvery: 7 });
    const out = memorySink('dead-out');
    const { topology, store, dead } = await setup({
      in: { type: 'memory', config: { id: 'dead' } },
      even: { type: 'test_keep_even', inputs: ['in'] },
      out: { type: 'memory', inputs: ['even'], config: { id: 'dead-out' } },
    });
    const summary = await runTopology(topology, { checkpoints: store });
    const lines = dead.records;
    const expectedDead = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 7 === 0);
    expect(lines.map((l) => Number(l.record))).toEqual(expectedDead);
    expect(lines[0]).toMatchObject({ node: 'in', reason: 'id 0 is unlucky', origin: JSON.stringify({ line: 0 }) });
    const source = summary.nodes.find((n) => n.node === 'in')!;
    const even = summary.nodes.find((n) => n.node === 'even')!;
    expect(source.rowsIn).toBe(40);
    expect(source.deadLettered).toBe(expectedDead.length);
    expect(out.rows).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 7 !== 0 && i % 2 === 0));
    // in = out + filtered + dead-lettered, across the whole topology
    expect(source.rowsIn).toBe(out.rows.length + even.filtered + summary.deadLettered);
  });

  it('counts rows a sink dead-letters as dead-lettered, not as written', async () => {
    memorySource('sink-dead', { batches: 3, rowsPerBatch: 10 });
    const out = memorySink('sink-dead-out');
    out.rejectOdd = true;
    const { topology, store, dead } = await setup({
      in: { type: 'memory', config: { id: 'sink-dead' } },
      out: { type: 'memory', inputs: ['in'], config: { id: 'sink-dead-out' } },
    });
    const summary = await runTopology(topology, { checkpoints: store });
    const sink = summary.nodes.find((n) => n.node === 'out')!;
    expect(sink).toMatchObject({ rowsIn: 30, rowsOut: 15, deadLettered: 15 });
    expect(out.rows).toEqual(Array.from({ length: 15 }, (_, i) => i * 2));
    expect(dead.records.map((r) => r.reason)).toContain('sink refuses odd id 1');
    expect(summary.deadLettered).toBe(15);
  });

  it('never checkpoints past rows a transform still holds in state', async () => {
    memorySource('held', { batches: 6, rowsPerBatch: 2, endless: false });
    const out = memorySink('held-out');
    const { topology } = await setup({
      in: { type: 'memory', config: { id: 'held' } },
      all: { type: 'test_hold_all', inputs: ['in'] },
      out: { type: 'memory', inputs: ['all'], config: { id: 'held-out' } },
    });
    const puts: unknown[] = [];
    const spy = {
      list: async () => ({}),
      get: async () => undefined,
      delete: async () => undefined,
      close: async () => undefined,
      put: async (_t: string, _p: string, position: unknown) => {
        puts.push(position);
      },
    };
    const summary = await runTopology(topology, { checkpoints: spy as never });
    expect(summary.status).toBe('completed');
    expect(out.rows.length).toBe(12);
    // Empty batches flowed (credits released) but no position was stored until the rows came out.
    expect(puts).toEqual([6]);
  });

  it('fails the run when a sink fails for good, and keeps the last good checkpoint', async () => {
    memorySource('fail', { batches: 5, rowsPerBatch: 1 });
    const out = memorySink('fail-out');
    const { topology, store, name } = await setup(
      {
        in: { type: 'memory', config: { id: 'fail' } },
        out: { type: 'memory', inputs: ['in'], config: { id: 'fail-out' } },
      },
      { max_in_flight: 1 },
    );
    const hold = gate();
    out.gate = hold.promise;
    const running = runTopology(topology, { checkpoints: store });
    await until(() => true);
    out.failWith = new Error('disk full');
    hold.open();
    const summary = await running;
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain('disk full');
    expect(out.finished).toBeUndefined();
    expect(out.rows).toEqual([]);
    expect(await store.list(name)).toEqual({});
  });
});
