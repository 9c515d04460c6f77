import { once } from 'node:events';
import { Type } from '@sinclair/typebox';
import { Observable } from 'rxjs';
import type { Batch, Position } from '../../src/core/batch.js';
import { recordBatchFromColumns, rowsOf } from '../../src/core/batch.js';
import type { DeadLetter } from '../../src/core/dead-letter.js';
import { registry } from '../../src/core/registry.js';
import type { Sink, SinkOpenContext, Source } from '../../src/core/ports.js';

/**
 * In-memory source and sink for runtime tests: a source emitting numbered rows (`id` column) in
 * batches, optionally forever, and a sink that records what it got and can be held shut.
 */
export interface MemorySourceFixture {
  batches: number;
  rowsPerBatch: number;
  /** Never completes by itself (an unbounded source). */
  endless?: boolean;
  /** Rows whose id is divisible by this become dead letters at the source. */
  deadEvery?: number;
  /** The read fails once this many batches were emitted (counted over every read). */
  failAfter?: number;
  /** More columns, computed from the ids of a batch. */
  columns?: (ids: number[]) => Record<string, unknown[]>;
  /** Before emitting the batch at this position, waits until the run stops (a run stopped mid-way). */
  pauseAt?: number;
  /** Batches emitted so far, and the positions each read started from. */
  emitted: number;
  readFrom: Array<Position | undefined>;
  commits: Position[];
}

export interface MemorySinkFixture {
  /** The `id` column of every row written. */
  rows: number[];
  /** Every row written, as objects. */
  records: Record<string, unknown>[];
  writes: number;
  /** While set, writes wait on it (ignoring their abort signal unless `honourSignal`). */
  gate?: Promise<void>;
  /** A write waiting on the gate rejects when its signal aborts. */
  honourSignal?: boolean;
  /** The abort signal each write was given, in call order (also for writes still waiting). */
  signals: Array<AbortSignal | undefined>;
  failWith?: Error;
  opened?: { resuming: boolean };
  /** Rows with an odd id are refused through the runtime's dead-letter hook. */
  rejectOdd?: boolean;
  /** Set when the runtime called finish() (only after every input completed). */
  finished?: boolean;
}

const sources = new Map<string, MemorySourceFixture>();
const sinks = new Map<string, MemorySinkFixture>();

export function memorySource(
  id: string,
  fixture: Partial<MemorySourceFixture> & { batches: number; rowsPerBatch: number },
): MemorySourceFixture {
  const full: MemorySourceFixture = { emitted: 0, readFrom: [], commits: [], ...fixture };
  sources.set(id, full);
  return full;
}

export function memorySink(id: string): MemorySinkFixture {
  const fixture: MemorySinkFixture = { rows: [], records: [], writes: 0, signals: [] };
  sinks.set(id, fixture);
  return fixture;
}

function createSource(id: string, node: string): Source {
  const fixture = sources.get(id)!;
  return {
    partitions: async () => ['p0'],
    read(partition, from, ctx) {
      fixture.readFrom.push(from);
      return new Observable<Batch>((subscriber) => {
        let stopped = false;
        (async () => {
          let next = typeof from === 'number' ? from : 0;
          while (!stopped && !ctx.signal.aborted && (fixture.endless || next < fixture.batches)) {
            if (next === fixture.pauseAt && !ctx.signal.aborted) await once(ctx.signal, 'abort');
            await ctx.flow.acquire();
            if (stopped || ctx.signal.aborted) break;
            if (fixture.failAfter !== undefined && fixture.emitted >= fixture.failAfter)
              throw new Error(`source failed after ${fixture.emitted} batches`);
            const ids = Array.from({ length: fixture.rowsPerBatch }, (_, i) => next * fixture.rowsPerBatch + i);
            const good = fixture.deadEvery ? ids.filter((v) => v % fixture.deadEvery! !== 0) : ids;
            const deadLetters: DeadLetter[] = ids
              .filter((v) => !good.includes(v))
              .map((v) => ({ node, reason: `id ${v} is unlucky`, record: String(v), origin: { line: v } }));
            next++;
            fixture.emitted++;
            subscriber.next({
              data: recordBatchFromColumns({ id: Int32Array.from(good), ...fixture.columns?.(good) }),
              meta: { stream: node, partition, position: next, kind: 'records', deadLetters },
            });
            await new Promise((r) => setImmediate(r));
          }
          subscriber.complete();
        })().catch((e) => subscriber.error(e));
        return () => {
          stopped = true;
        };
      });
    },
    commit: async (_partition, position) => {
      fixture.commits.push(position);
    },
    close: async () => undefined,
  };
}

function createSink(id: string, node: string): Sink {
  const fixture = sinks.get(id)!;
  let deadLetter: SinkOpenContext['deadLetter'];
  return {
    open: async (ctx) => {
      fixture.opened = { resuming: ctx.resuming };
      deadLetter = ctx.deadLetter;
    },
    write: async (batch, signal) => {
      fixture.signals.push(signal);
      if (fixture.gate) await (fixture.honourSignal && signal ? untilAborted(fixture.gate, signal) : fixture.gate);
      if (fixture.failWith) throw fixture.failWith;
      fixture.writes++;
      const column = batch.data.getChild('id');
      if (fixture.rejectOdd && column) {
        const odd = [...column].map(Number).filter((v) => v % 2 === 1);
        await deadLetter!(
          batch,
          odd.map((v) => ({ node, reason: `sink refuses odd id ${v}`, record: { id: v } })),
        );
        for (const v of column) if (Number(v) % 2 === 0) fixture.rows.push(Number(v));
        return;
      }
      if (column) for (const v of column) fixture.rows.push(Number(v));
      fixture.records.push(...rowsOf(batch.data));
    },
    finish: async () => {
      fixture.finished = true;
    },
    close: async () => undefined,
  };
}

const MemoryConfig = Type.Object({ id: Type.String() });

registry.connector({
  type: 'memory',
  description: 'In-memory test source and sink.',
  configSchema: MemoryConfig,
  createSource: (config, ctx) => createSource(config.id, ctx.node),
  createSink: (config, ctx) => createSink(config.id, ctx.node),
  unbounded: (config) => sources.get(config.id)?.endless ?? false,
});

function untilAborted(gate: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    gate.then(resolve, reject);
  });
}

/** A gate a test opens by hand. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
