import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pino from 'pino';
import { RecordBatch, Schema } from 'apache-arrow';
import { Observable } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBatchFromColumns, type Batch, type Position } from '../../src/core/batch.js';
import { OP_COLUMN, keyMetadata } from '../../src/core/changelog.js';
import { parseConfig } from '../../src/core/config.js';
import { race } from '../../src/core/race.js';
import { isSluiceError } from '../../src/core/errors.js';
import type { ConnectorDefinition, FlowControl, ReadContext, Sink, Source } from '../../src/core/ports.js';
import { registry } from '../../src/core/registry.js';
import { runTopology } from '../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../src/state/file-checkpoint-store.js';
import { MemoryCheckpointStore } from '../../src/state/memory-checkpoint-store.js';
import { compileTopology, type CompiledTopology } from '../../src/topology/compile.js';
import { memorySink, memorySource } from './memory-connector.js';

/**
 * The connector contract: what every connector promises the runtime, checked against its real
 * server. A connector opts in with a descriptor (how to seed rows, how to read back what its
 * sink wrote, what it can do); a check for a capability it does not declare is not registered.
 * Rows carry an integer `id`; seeded rows have ids 0..n-1.
 */
export interface SourceContract {
  /** Names the source in test titles, e.g. `postgresql incremental source`. */
  title: string;
  type: string;
  /** Stores `rows` rows (ids 0..rows-1, in that order) where a new config reads them, as one partition. */
  seed(rows: number): Promise<Record<string, unknown>>;
  /** Its positions let a new read continue after them; otherwise its batches carry none. */
  resumable: boolean;
  /** Never completes by itself (brokers, CDC). */
  unbounded: boolean;
  /** Configs the source cannot read with, and whether the error must be worth retrying. */
  failures: FailureCase[];
  /** The `id`s of a batch's rows (default: its `id` column; batches without one hold none). */
  ids?(batch: Batch): number[];
  /** False when a batch may hold more rows than the batch size asked for (it ends at a transaction's commit). */
  batchesWithinSize?: boolean;
}

export interface SinkContract {
  title: string;
  type: string;
  /** A fresh, empty destination: the config writing to it, and what it holds now (ids in any order). */
  target(): Promise<{ config: Record<string, unknown>; readBack(): Promise<Record<string, unknown>[]> }>;
  /** Applies changelog batches by key (`__op`, key metadata). */
  changelogApply?: boolean;
  /** Publishes a run's writes whole in `finish()`: until then the destination keeps what it had. */
  atomicReplace?: boolean;
  failures: FailureCase[];
}

export interface FailureCase {
  name: string;
  config(): Promise<Record<string, unknown>> | Record<string, unknown>;
  retriable: boolean;
}

const logger = pino({ level: 'silent' });
/** Rows per batch, and batches per seeded partition: small, so every position is exercised. */
const BATCH = 4;
const ROWS = 5 * BATCH;
const allIds = Array.from({ length: ROWS }, (_, i) => i);
let topologies = 0;

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

function defaultIds(batch: Batch): number[] {
  const column = batch.data.getChild('id');
  return column ? [...column].map(Number) : [];
}

/**
 * Credits the test hands out: `available` up front, one more per `release()`. Records how many the
 * source asked for, so a test can wait until the source waits.
 */
class TestFlow implements FlowControl {
  granted = 0;
  requested = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly watchers: Array<{ count: number; resolve: () => void }> = [];

  constructor(private available: number) {}

  acquire(): Promise<void> {
    this.requested++;
    for (const w of this.watchers.filter((w) => this.requested >= w.count)) w.resolve();
    if (this.available > 0) {
      this.available--;
      this.granted++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => resolve()));
  }

  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiting.shift();
      if (next) {
        this.granted++;
        next();
      } else this.available++;
    }
  }

  /** Resolves once the source has asked for `count` credits in all. */
  asked(count: number): Promise<void> {
    if (this.requested >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }
}

/** One read of a partition in the background; fails the test if a batch comes without a credit. */
class Reading {
  readonly batches: Batch[] = [];
  readonly controller = new AbortController();
  readonly ended: Promise<'complete'>;
  private arrived: (() => void) | undefined;

  /** Acknowledges each batch as it arrives: its credit goes back at once. */
  autoRelease = false;

  constructor(
    source: Source,
    partition: string,
    from: Position | undefined,
    readonly flow: TestFlow,
    private readonly ids: (b: Batch) => number[],
  ) {
    const ctx: ReadContext = { flow, signal: this.controller.signal, logger, batchSize: BATCH };
    const read$: Observable<Batch> = source.read(partition, from, ctx);
    this.ended = new Promise((resolve, reject) => {
      read$.subscribe({
        next: (batch) => {
          this.batches.push(batch);
          if (this.batches.length > flow.granted)
            reject(new Error(`batch ${this.batches.length} emitted with only ${flow.granted} credits granted`));
          if (this.autoRelease) flow.release();
          this.arrived?.();
        },
        error: reject,
        complete: () => resolve('complete'),
      });
    });
    this.ended.catch(() => undefined).finally(() => this.arrived?.());
  }

  get rowIds(): number[] {
    return this.batches.flatMap((b) => this.ids(b));
  }

  /** Waits until the read holds all of `ids` (or ends); the read's failure fails the wait. */
  async until(ids: number[]): Promise<void> {
    let settled = false;
    void this.ended.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled && !ids.every((id) => this.rowIds.includes(id))) {
      await new Promise<void>((resolve) => (this.arrived = resolve));
    }
    if (settled) await this.ended;
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.ended;
  }
}

/** What a wrapped source emitted and was told to commit, in order, per partition. */
interface Recorded {
  emitted: Array<{ partition: string; position: Position | undefined; ids: number[] }>;
  commits: Array<{ partition: string; position: Position }>;
  flows: TestFlowProxy[];
}

/** The runtime's credits, seen from the source: counts what it asked for and got. */
class TestFlowProxy implements FlowControl {
  requested = 0;
  granted = 0;
  constructor(private readonly inner: FlowControl) {}
  async acquire(): Promise<void> {
    this.requested++;
    await this.inner.acquire();
    this.granted++;
  }
}

/**
 * A compiled topology whose `node` source records what it emits and is told; `forwardCommits`
 * false keeps commits from reaching the source (a crash between checkpoint and commit).
 */
function recordSource(topology: CompiledTopology, node: string, ids: (b: Batch) => number[], forwardCommits: boolean): Recorded {
  const recorded: Recorded = { emitted: [], commits: [], flows: [] };
  const compiled = topology.nodes.get(node)!;
  if (compiled.kind !== 'source') throw new Error(`${node} is not a source`);
  const definition: ConnectorDefinition = compiled.connector;
  compiled.connector = {
    ...definition,
    createSource: (config, ctx) => {
      const source = definition.createSource!(config, ctx);
      return {
        partitions: () => source.partitions(),
        read: (partition, from, readCtx) => {
          const flow = new TestFlowProxy(readCtx.flow);
          recorded.flows.push(flow);
          return new Observable<Batch>((subscriber) =>
            source.read(partition, from, { ...readCtx, flow }).subscribe({
              next: (batch) => {
                recorded.emitted.push({ partition, position: batch.meta.position, ids: ids(batch) });
                subscriber.next(batch);
              },
              error: (e: unknown) => subscriber.error(e),
              complete: () => subscriber.complete(),
            }),
          );
        },
        commit: async (partition, position) => {
          recorded.commits.push({ partition, position });
          if (forwardCommits) await source.commit(partition, position);
        },
        close: () => source.close(),
      };
    },
  };
  return recorded;
}

function uniqueName(prefix: string): string {
  return `${prefix}${++topologies}-${process.pid}`;
}

/** A topology from the source under test into a memory sink, with `settings`. */
function sourceTopology(contract: SourceContract, config: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  const name = uniqueName('contract-src-');
  const sink = memorySink(`${name}-out`);
  memorySink(`${name}-dead`);
  const topology = compileTopology({
    name,
    settings: { batch_size: BATCH, sink_retries: 0, ...settings },
    dead_letter: { type: 'memory', config: { id: `${name}-dead` } },
    nodes: {
      input: { type: contract.type, config },
      out: { type: 'memory', inputs: ['input'], config: { id: `${name}-out` } },
    },
  });
  return { name, topology, sink };
}

/** Waits for a condition the run makes true, polling; the run's end ends the wait. */
async function untilOr(condition: () => boolean, running: Promise<unknown>): Promise<void> {
  let ended = false;
  void running.finally(() => (ended = true));
  while (!condition() && !ended) await new Promise((r) => setTimeout(r, 20));
}

async function errorOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** A connector's source or sink from a config, defaults filled in as a topology fills them. */
function createSource(type: string, config: Record<string, unknown>): Source {
  const definition = registry.getConnector(type)!;
  return definition.createSource!(parseConfig(definition.configSchema, config), { node: 'contract', logger });
}

function createSink(type: string, config: Record<string, unknown>): Sink {
  const definition = registry.getConnector(type)!;
  return definition.createSink!(parseConfig(definition.configSchema, config), { node: 'contract', logger });
}

/** Reads the first partition of a config through the port until it ends: the error it fails with. */
async function readError(type: string, config: Record<string, unknown>): Promise<unknown> {
  const source = createSource(type, config);
  try {
    return await errorOf(async () => {
      const [partition] = await source.partitions();
      const reading = new Reading(source, partition, undefined, new TestFlow(Number.MAX_SAFE_INTEGER), defaultIds);
      await reading.ended;
    });
  } finally {
    await source.close();
  }
}

function describeFailures(cases: FailureCase[], fail: (config: Record<string, unknown>) => Promise<unknown>): void {
  for (const failure of cases) {
    it(`${failure.name}: fails with retriable ${failure.retriable}`, async () => {
      const error = await fail(await failure.config());
      expect(isSluiceError(error), `a SluiceError, got ${String(error)}`).toBe(true);
      expect(error).toMatchObject({ retriable: failure.retriable });
    });
  }
}

/** Registers the source half of the contract for a connector's source. */
export function sourceContract(contract: SourceContract): void {
  const ids = contract.ids ?? defaultIds;
  const created: Source[] = [];
  const create = (config: Record<string, unknown>): Source => {
    const source = createSource(contract.type, config);
    created.push(source);
    return source;
  };
  const firstPartition = async (source: Source) => {
    const partitions = await source.partitions();
    expect(partitions).toHaveLength(1);
    return partitions[0];
  };

  describe(`${contract.title}: connector contract`, () => {
    afterAll(async () => {
      for (const source of created.splice(0)) await source.close();
    });

    it('emits no batch without a credit, then continues where it stopped as credits come', async () => {
      const source = create(await contract.seed(ROWS));
      const partition = await firstPartition(source);
      const flow = new TestFlow(2);
      const reading = new Reading(source, partition, undefined, flow, ids);
      // Asking for a third credit, it has emitted the two it was granted: the first rows, in order.
      await race([flow.asked(3), reading.ended]);
      expect(reading.batches).toHaveLength(2);
      expect(reading.rowIds).toEqual(allIds.slice(0, reading.rowIds.length));
      // One credit back: exactly one batch more.
      flow.release(1);
      await race([flow.asked(4), reading.ended]);
      expect(reading.batches).toHaveLength(3);
      // Acknowledge as batches come: the rest arrives, nothing skipped or repeated across the waits.
      reading.autoRelease = true;
      flow.release(2);
      await reading.until(allIds);
      if (!contract.unbounded) expect(await reading.ended).toBe('complete');
      await reading.stop();
      expect(reading.rowIds).toEqual(allIds);
      if (contract.batchesWithinSize !== false) expect(reading.batches.map((b) => ids(b).length).filter((n) => n > BATCH)).toEqual([]);
      expect(reading.batches.length).toBeLessThanOrEqual(flow.granted);
    });

    it('abort ends a read that waits for a credit, emitting nothing more', async () => {
      const source = create(await contract.seed(ROWS));
      const reading = new Reading(source, await firstPartition(source), undefined, new TestFlow(1), ids);
      await reading.flow.asked(2);
      reading.controller.abort();
      expect(await reading.ended).toBe('complete');
      expect(reading.batches).toHaveLength(1);
    });

    it('close() ends a read that waits for a credit, emitting nothing more', async () => {
      const source = create(await contract.seed(ROWS));
      const reading = new Reading(source, await firstPartition(source), undefined, new TestFlow(1), ids);
      await reading.flow.asked(2);
      await source.close();
      expect(await reading.ended).toBe('complete');
      expect(reading.batches).toHaveLength(1);
    });

    it('commit() receives only positions the source emitted, the last one included', async () => {
      const { topology, sink } = sourceTopology(contract, await contract.seed(ROWS));
      const recorded = recordSource(topology, 'input', ids, true);
      const stop = new AbortController();
      const running = runTopology(topology, { logger, checkpoints: new MemoryCheckpointStore(), signal: stop.signal });
      if (contract.unbounded) {
        await untilOr(() => allIds.every((id) => sink.rows.includes(id)), running);
        stop.abort();
      }
      expect(await running).toMatchObject({ status: contract.unbounded ? 'stopped' : 'completed' });
      expect(sorted(sink.rows)).toEqual(allIds);
      const emitted = recorded.emitted.filter((e) => e.position !== undefined);
      for (const commit of recorded.commits) {
        expect(
          emitted.some((e) => e.partition === commit.partition && isDeepStrictEqual(e.position, commit.position)),
          `commit of ${JSON.stringify(commit.position)}`,
        ).toBe(true);
      }
      if (contract.resumable) expect(recorded.commits.at(-1)?.position).toEqual(emitted.at(-1)?.position);
      else expect(recorded.commits).toEqual([]);
    });

    it('a stalled sink stops the source: no more batches out than the run lets be in flight', async () => {
      const { topology, sink } = sourceTopology(contract, await contract.seed(ROWS), { max_in_flight: 2 });
      const recorded = recordSource(topology, 'input', ids, true);
      let open!: () => void;
      sink.gate = new Promise<void>((resolve) => (open = resolve));
      sink.honourSignal = true;
      const stop = new AbortController();
      const running = runTopology(topology, {
        logger,
        checkpoints: new MemoryCheckpointStore(),
        signal: stop.signal,
        writeSignal: stop.signal,
      });
      // The source asked for a third credit: it waits, with two batches out and none acknowledged.
      await untilOr(() => recorded.flows.some((f) => f.requested > f.granted && f.granted === 2), running);
      expect(recorded.emitted.length).toBe(2);
      expect(sink.writes).toBe(0);
      stop.abort();
      open();
      await running;
      expect(recorded.emitted.length).toBe(2);
    });

    if (contract.resumable) {
      it('resuming from every position a run checkpointed loses nothing and repeats only what followed it', async () => {
        const config = await contract.seed(ROWS);
        const { topology, name } = sourceTopology(contract, config);
        const recorded = recordSource(topology, 'input', ids, false);
        const puts: Position[] = [];
        const store = new MemoryCheckpointStore();
        const put = store.put.bind(store);
        store.put = async (topo, key, position) => {
          if (topo === name) puts.push(position);
          await put(topo, key, position);
        };
        const stop = new AbortController();
        const running = runTopology(topology, { logger, checkpoints: store, signal: stop.signal });
        if (contract.unbounded) {
          await untilOr(() => allIds.every((id) => recorded.emitted.some((e) => e.ids.includes(id))), running);
          await untilOr(() => puts.some((p) => isDeepStrictEqual(p, recorded.emitted.at(-1)!.position)), running);
          stop.abort();
        }
        await running;
        expect(puts.length).toBeGreaterThan(1);
        const partition = recorded.emitted[0].partition;
        for (const position of puts.filter((p, i) => !puts.slice(0, i).some((q) => isDeepStrictEqual(p, q)))) {
          // Rows are durable up to the first batch that ends at this position.
          const at = recorded.emitted.findIndex((e) => isDeepStrictEqual(e.position, position));
          expect(at, `checkpoint ${JSON.stringify(position)} is a position the source emitted`).toBeGreaterThanOrEqual(0);
          const before = recorded.emitted.slice(0, at + 1).flatMap((e) => e.ids);
          const rest = allIds.filter((id) => !before.includes(id));
          if (contract.unbounded && rest.length === 0) continue;
          // Closed before the next resume, as a restarted process would be (a consumer group has one member).
          const source = create(config);
          const reading = new Reading(source, partition, position, new TestFlow(Number.MAX_SAFE_INTEGER), ids);
          await reading.until(rest);
          // A bounded read is read to its end: nothing may follow what was expected.
          if (contract.unbounded) await reading.stop();
          else await reading.ended;
          await source.close();
          expect(sorted(reading.rowIds), `resumed from ${JSON.stringify(position)}`).toEqual(rest);
        }
      }, 180_000);
    } else {
      it('cannot resume, and says so: its batches carry no position', async () => {
        const source = create(await contract.seed(ROWS));
        const reading = new Reading(source, await firstPartition(source), undefined, new TestFlow(Number.MAX_SAFE_INTEGER), ids);
        await reading.ended;
        expect(sorted(reading.rowIds)).toEqual(allIds);
        expect(reading.batches.map((b) => b.meta.position).filter((p) => p !== undefined)).toEqual([]);
      });
    }

    describe('errors', () => describeFailures(contract.failures, (config) => readError(contract.type, config)));
  });
}

function rowsBatch(ids: number[], name: (id: number) => string): Batch {
  return {
    data: recordBatchFromColumns({ id: Int32Array.from(ids), name: ids.map(name) }),
    meta: { stream: 'contract', partition: 'p0', position: null, kind: 'records' },
  };
}

/** Registers the sink half of the contract for a connector's sink. */
export function sinkContract(contract: SinkContract): void {
  /** Opens a sink as a run would, writes `batches`, finishes it when `finish`, and closes it. */
  const session = async (
    config: Record<string, unknown>,
    ctx: { resuming: boolean; resumeKey?: string },
    batches: Batch[],
    finish: boolean,
  ) => {
    const sink = createSink(contract.type, config);
    try {
      await sink.open?.({ ...ctx, logger });
      for (const batch of batches) await sink.write(batch);
      if (finish) await sink.finish?.();
    } finally {
      await sink.close();
    }
  };

  /** A topology from the memory source `source` into the sink under test. */
  const runInto = (config: Record<string, unknown>, source: string, name = uniqueName('contract-sink-')) => {
    memorySink(`${name}-dead`);
    return compileTopology({
      name,
      settings: { batch_size: BATCH, sink_retries: 0, max_in_flight: 1 },
      dead_letter: { type: 'memory', config: { id: `${name}-dead` } },
      nodes: { input: { type: 'memory', config: { id: source } }, target: { type: contract.type, inputs: ['input'], config } },
    });
  };

  /** The sink node of a topology, wrapped to record finish() and the writes still running then. */
  const recordFinish = (topology: CompiledTopology) => {
    const record = { finished: 0, writesPendingAtFinish: 0, writes: 0 };
    const node = topology.nodes.get('target')!;
    if (node.kind !== 'sink') throw new Error('target is not a sink');
    const original = node.connector;
    let pending = 0;
    node.connector = {
      ...original,
      createSink: (config, ctx) => {
        const sink = original.createSink!(config, ctx);
        return {
          open: sink.open?.bind(sink),
          write: async (batch, signal) => {
            pending++;
            try {
              await sink.write(batch, signal);
              record.writes++;
            } finally {
              pending--;
            }
          },
          finish: async () => {
            record.finished++;
            record.writesPendingAtFinish = pending;
            await sink.finish?.();
          },
          close: () => sink.close(),
        };
      },
    };
    return record;
  };

  describe(`${contract.title}: connector contract`, () => {
    it('finish() runs only after a run succeeded, once, after its last write', async () => {
      const { config, readBack } = await contract.target();
      const oldSource = uniqueName('old-');
      memorySource(oldSource, { batches: 2, rowsPerBatch: BATCH, columns: (ids) => ({ name: ids.map((id) => `old-${id}`) }) });
      expect(await runTopology(runInto(config, oldSource), { logger, checkpoints: new MemoryCheckpointStore() })).toMatchObject({
        status: 'completed',
      });
      const before = await readBack();

      const newSource = uniqueName('new-');
      const fixture = memorySource(newSource, {
        batches: 5,
        rowsPerBatch: BATCH,
        failAfter: 3,
        columns: (ids) => ({ name: ids.map((id) => `new-${id}`) }),
      });
      // Durable checkpoints: a sink that stages a run keeps its staging for the resume.
      const checkpoints = new FileCheckpointStore(join(await mkdtemp(join(tmpdir(), 'sluice-contract-')), 'checkpoints'));
      const topology = runInto(config, newSource);
      const failed = recordFinish(topology);
      expect(await runTopology(topology, { logger, checkpoints })).toMatchObject({ status: 'failed' });
      // It wrote batches before the source failed, and published none of them.
      expect(failed.writes).toBeGreaterThan(0);
      expect(failed.finished).toBe(0);
      if (contract.atomicReplace) expect(await readBack()).toEqual(before);

      fixture.failAfter = undefined;
      const again = runInto(config, newSource, topology.name);
      const succeeded = recordFinish(again);
      expect(await runTopology(again, { logger, checkpoints })).toMatchObject({ status: 'completed', resumed: true });
      expect(succeeded).toMatchObject({ finished: 1, writesPendingAtFinish: 0 });
      const after = (await readBack()).filter((row) => String(row.name).startsWith('new-')).map((row) => Number(row.id));
      expect(new Set(after)).toEqual(new Set(Array.from({ length: 5 * BATCH }, (_, i) => i)));
      if (contract.atomicReplace) expect((await readBack()).every((row) => String(row.name).startsWith('new-'))).toBe(true);
      await checkpoints.close();
    });

    if (contract.changelogApply) {
      it('replaying changelog batches after a resume changes nothing', async () => {
        const batches = [
          changelogBatch(allIds.map((id) => ['c', id, `v1-${id}`])),
          changelogBatch([
            ['u', 1, 'v2-1'],
            ['d', 2, null],
            ['u', 3, 'v2-3'],
            ['d', 3, null],
            ['c', 3, 'v3-3'],
          ]),
        ];
        const once = await contract.target();
        await session(once.config, { resuming: false, resumeKey: uniqueName('once/') }, batches, true);
        const expected = await once.readBack();
        expect(expected.find((row) => Number(row.id) === 3)).toMatchObject({ name: 'v3-3' });
        expect(expected.some((row) => Number(row.id) === 2)).toBe(false);
        // A run stops after writing both batches, before either was checkpointed (or only the first):
        // its resume writes them again.
        for (const replayed of [batches, batches.slice(1)]) {
          const target = await contract.target();
          const resumeKey = uniqueName('replay/');
          await session(target.config, { resuming: false, resumeKey }, batches, false);
          await session(target.config, { resuming: true, resumeKey }, replayed, true);
          expect(await target.readBack()).toEqual(expected);
        }
      });
    }

    it('writes what it is given, readable back', async () => {
      const { config, readBack } = await contract.target();
      await session(config, { resuming: false }, [rowsBatch([0, 1, 2], (id) => `n${id}`), rowsBatch([3], (id) => `n${id}`)], true);
      expect(sorted((await readBack()).map((row) => Number(row.id)))).toEqual([0, 1, 2, 3]);
    });

    describe('errors', () =>
      describeFailures(contract.failures, (config) =>
        errorOf(() => session(config, { resuming: false }, [rowsBatch([0], () => 'x')], true)),
      ));
  });
}

/** A changelog batch of rows `[op, id, name]`, keyed by `id`. */
function changelogBatch(rows: Array<[string, number, string | null]>): Batch {
  const data = recordBatchFromColumns({
    id: Int32Array.from(rows.map((r) => r[1])),
    name: rows.map((r) => r[2]),
    [OP_COLUMN]: rows.map((r) => r[0]),
  });
  const keyed = new RecordBatch(new Schema(data.schema.fields, keyMetadata(['id'])), data.data);
  return { data: keyed, meta: { stream: 'contract', partition: 'p0', position: null, kind: 'changelog' } };
}
