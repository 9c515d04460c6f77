import { Observable, type Subscriber } from 'rxjs';
import type pg from 'pg';
import type { Batch, Position } from '../../../core/batch.js';
import type { ReadContext, Source } from '../../../core/ports.js';
import { SluiceError } from '../../../core/errors.js';
import type { PostgresConfig } from '../config.js';
import { closeQuietly, connect, primaryKey, qualified } from '../client.js';
import { TypeResolver, arrowFieldOf } from '../types.js';
import { wrapSourceError } from '../source.js';
import { readTableCopy } from '../copy-reader.js';
import { ChangelogBuffer } from './changelog-buffer.js';
import { decodePgOutput, type PgOutputMessage, type TupleValues } from './pgoutput.js';
import { ReplicationStream, type ReplicationFrame } from './replication-stream.js';
import { createSlot, dropSlot, ensurePublication, publicationTables, slotState } from './slot.js';
import { formatLsn, parseLsn } from './lsn.js';
import { activeSlots, cdcEvents } from './metrics.js';

/**
 * Position of the CDC partition: the end LSN of the last commit whose changes were all emitted.
 * `snapshot: 'running'` marks batches of an initial snapshot not finished yet (a restart there
 * drops the slot and snapshots again).
 */
export type CdcPosition = { lsn: string; snapshot?: 'running' };

const STATUS_INTERVAL_MS = 10_000;
/** A transaction bigger than this many batches is emitted in parts (without advancing the position). */
const MAX_BUFFERED_BATCHES = 4;

/**
 * CDC by logical replication (pgoutput). One partition per slot, so commit order is kept: each
 * emitted group of batches ends at a commit; inside a group changes are grouped per table,
 * in order. The slot is confirmed only in `commit()`, after the runtime stored the checkpoint.
 */
export class CdcSource implements Source {
  private stream: ReplicationStream | undefined;
  private confirmed = 0n;
  /** Connections of each read in progress, closed when it ends (a retry gets its own). */
  private readonly runs = new Set<pg.Client[]>();

  constructor(readonly config: PostgresConfig) {}

  async partitions(): Promise<string[]> {
    return [this.config.slot];
  }

  read(partition: string, from: Position | undefined, ctx: ReadContext): Observable<Batch> {
    return new Observable<Batch>((subscriber) => {
      const stop = new AbortController();
      const signal = AbortSignal.any([stop.signal, ctx.signal]);
      const clients: pg.Client[] = [];
      this.runs.add(clients);
      const closeRun = async () => {
        this.runs.delete(clients);
        await Promise.all(clients.splice(0).map(closeQuietly));
      };
      this.run(partition, from as CdcPosition | undefined, ctx, signal, subscriber, clients)
        .finally(closeRun)
        .then(
          () => subscriber.complete(),
          (error: unknown) => subscriber.error(wrapSourceError(error)),
        );
      return () => stop.abort();
    });
  }

  async commit(_partition: string, position: Position): Promise<void> {
    const p = position as unknown as CdcPosition | null;
    if (!p || p.snapshot) return;
    const lsn = parseLsn(p.lsn);
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.stream?.sendStatus(lsn);
  }

  async close(): Promise<void> {
    this.stream = undefined;
    const all = [...this.runs].flatMap((clients) => clients.splice(0));
    this.runs.clear();
    await Promise.all(all.map(closeQuietly));
  }

  private async run(partition: string, from: CdcPosition | undefined, ctx: ReadContext, signal: AbortSignal, subscriber: Subscriber<Batch>, clients: pg.Client[]): Promise<void> {
    const { slot, publication } = this.config;
    const open = async (replication = false) => {
      const client = await connect(this.config, { replication });
      clients.push(client);
      return client;
    };
    const meta = await open();
    const replication = await open(true);
    await ensurePublication(meta, publication, this.config.tables);
    let state = await slotState(meta, slot);
    const lost = state?.walStatus === 'lost' || (from !== undefined && !from.snapshot && !state);
    if (lost && this.config.on_slot_lost === 'resnapshot') {
      ctx.logger.warn({ slot, checkpoint: from?.lsn }, 'replication slot dropped or invalidated: creating it again and snapshotting again');
      from = { lsn: from?.lsn ?? '0/0', snapshot: 'running' };
    }
    if (state?.walStatus === 'lost' && !from?.snapshot) throw slotError(`replication slot ${slot} is invalidated (the WAL it needed was removed): drop it and the checkpoint to snapshot again, or set on_slot_lost: resnapshot`);
    if (from?.snapshot === 'running' && state) {
      ctx.logger.warn({ slot }, 'initial snapshot was interrupted: dropping the slot to snapshot again');
      await dropSlot(meta, slot);
      state = undefined;
    }
    let start: bigint;
    if (from && !from.snapshot) {
      if (!state) throw slotError(`replication slot ${slot} does not exist but the checkpoint is at ${from.lsn}: it was dropped, changes after it are lost; delete the checkpoint to snapshot again, or set on_slot_lost: resnapshot`);
      start = parseLsn(from.lsn);
      if (state.confirmedFlushLsn && parseLsn(state.confirmedFlushLsn) > start) {
        // Only possible if a checkpoint write was lost after the slot was confirmed: say so loudly.
        ctx.logger.error({ slot, checkpoint: from.lsn, confirmed: state.confirmedFlushLsn }, 'slot is confirmed past the checkpoint: changes in between are not delivered again');
      }
    } else if (!from?.snapshot && state) {
      if (!state.confirmedFlushLsn) throw slotError(`replication slot ${slot} has no confirmed position`);
      start = parseLsn(state.confirmedFlushLsn);
      ctx.logger.info({ slot, lsn: state.confirmedFlushLsn }, 'no checkpoint: resuming from the slot confirmed_flush_lsn');
    } else {
      const created = await createSlot(replication, slot, this.config.snapshot === 'initial');
      start = parseLsn(created.consistentPoint);
      ctx.logger.info({ slot, lsn: created.consistentPoint }, 'created replication slot');
      if (created.snapshotName) await this.snapshot(await open(), partition, created.snapshotName, created.consistentPoint, ctx, signal, subscriber);
    }
    if (signal.aborted) return;
    this.confirmed = start > this.confirmed ? start : this.confirmed;
    await new ChangeStream(this, partition, ReplicationStream.start(replication, slot, start, publication), meta, start, ctx, signal, subscriber).run();
  }

  /** Reads every published table in the snapshot the slot exported, as `r` changes. */
  private async snapshot(client: pg.Client, partition: string, snapshotName: string, lsn: string, ctx: ReadContext, signal: AbortSignal, subscriber: Subscriber<Batch>): Promise<void> {
    await client.query('begin isolation level repeatable read read only');
    await client.query(`set transaction snapshot '${snapshotName.replace(/'/g, "''")}'`);
    const time = BigInt(Date.now()) * 1000n;
    const position: CdcPosition = { lsn, snapshot: 'running' };
    // Checkpointed at once: a crash from here on snapshots again instead of resuming from the
    // fresh slot (which would skip the rows of the snapshot).
    await ctx.flow.acquire();
    subscriber.next({ data: new ChangelogBuffer(this.config.slot, [], []).drain(), meta: { stream: this.config.slot, partition, position, kind: 'changelog' } });
    for (const table of await publicationTables(client, this.config.publication)) {
      const key = await primaryKey(client, table);
      await readTableCopy(client, qualified(table), this.config.batch_size ?? ctx.batchSize, signal, async (fields, columns) => {
        const data = new ChangelogBuffer(table, fields, key).snapshotBatch(columns, time);
        await ctx.flow.acquire();
        cdcEvents.inc({ slot: this.config.slot }, data.numRows);
        subscriber.next({ data, meta: { stream: table, partition, position, kind: 'changelog' } });
      });
      if (signal.aborted) return;
    }
    await client.query('commit');
    // The end of the snapshot: from here a restart streams from the slot.
    await ctx.flow.acquire();
    subscriber.next({ data: new ChangelogBuffer(this.config.slot, [], []).drain(), meta: { stream: this.config.slot, partition, position: { lsn } as CdcPosition, kind: 'changelog' } });
  }

  /** Called by the stream loop: the stream in use, for standby status updates. */
  attach(stream: ReplicationStream | undefined): bigint {
    this.stream = stream;
    return this.confirmed;
  }

  get confirmedLsn(): bigint {
    return this.confirmed;
  }

  /** Explains why the stream ended: a dropped or invalidated slot is not worth retrying. */
  async streamError(meta: pg.Client, cause: unknown): Promise<SluiceError> {
    const state = await slotState(meta, this.config.slot).catch(() => 'unknown' as const);
    if (state === undefined) return slotError(`replication slot ${this.config.slot} was dropped while streaming: changes after the checkpoint are lost; delete the checkpoint to snapshot again`, cause);
    if (state !== 'unknown' && state.walStatus === 'lost') return slotError(`replication slot ${this.config.slot} was invalidated while streaming`, cause);
    return new SluiceError('SLUICE_SOURCE_FAILED', `replication stream of slot ${this.config.slot} ended: ${cause instanceof Error ? cause.message : 'server closed it'}`, { cause });
  }
}

function slotError(message: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_SOURCE_FAILED', message, { retriable: false, cause });
}

const TICK = Symbol('tick');

/** The streaming loop of one read: decodes pgoutput, buffers per table, emits at commits. */
class ChangeStream {
  private readonly relations = new Map<number, ChangelogBuffer>();
  private readonly resolver: TypeResolver;
  private emitted: bigint;
  private committed: bigint;
  private inTransaction = false;
  private time = 0n;
  private pending = 0;
  private pendingSince = 0;
  /** WAL position of the last keepalive: every transaction committed before it was sent. */
  private walEnd = 0n;
  /** Furthest WAL position the server reported (keepalives and data), for the lag metric. */
  private serverLsn = 0n;
  private lastEmitAt = Date.now();

  constructor(
    private readonly source: CdcSource,
    private readonly partition: string,
    private readonly stream: ReplicationStream,
    private readonly meta: pg.Client,
    start: bigint,
    private readonly ctx: ReadContext,
    private readonly signal: AbortSignal,
    private readonly subscriber: Subscriber<Batch>,
  ) {
    this.emitted = start;
    this.committed = start;
    this.resolver = new TypeResolver(meta);
  }

  private get config(): PostgresConfig {
    return this.source.config;
  }

  async run(): Promise<void> {
    this.source.attach(this.stream);
    this.stream.sendStatus(this.source.confirmedLsn);
    const status = setInterval(() => this.stream.sendStatus(this.source.confirmedLsn), STATUS_INTERVAL_MS);
    activeSlots.set(this.config.slot, () => (this.serverLsn > this.source.confirmedLsn ? this.serverLsn - this.source.confirmedLsn : 0n));
    const aborted = new Promise<typeof TICK>((resolve) => this.signal.addEventListener('abort', () => resolve(TICK), { once: true }));
    const frames = this.stream.frames();
    const delay = Math.min(this.config.max_batch_delay_ms, this.config.heartbeat_ms);
    let tick = sleep(delay);
    try {
      let next = frames.next();
      while (!this.signal.aborted) {
        const result = await Promise.race([next, tick, aborted]).catch(async (error: unknown) => {
          throw await this.source.streamError(this.meta, error);
        });
        if (this.signal.aborted) break;
        if (result === TICK) {
          tick = sleep(delay);
          await this.onIdle();
          continue;
        }
        if (result.done) throw await this.source.streamError(this.meta, undefined);
        next = frames.next();
        await this.onFrame(result.value);
      }
    } finally {
      clearInterval(status);
      activeSlots.delete(this.config.slot);
      this.source.attach(undefined);
      // Ends the generator and the copy stream; the connection is closed by the source.
      void frames.return(undefined).catch(() => undefined);
    }
  }

  private async onIdle(): Promise<void> {
    if (this.inTransaction) return;
    const now = Date.now();
    if (this.pending > 0 && now - this.pendingSince >= this.config.max_batch_delay_ms) {
      await this.flush(true);
    } else if (this.pending === 0 && this.walEnd > this.emitted && now - this.lastEmitAt >= this.config.heartbeat_ms) {
      // Idle tables: an empty batch at the server's WAL end lets the checkpoint, and so the slot, advance.
      this.emitted = this.walEnd;
      this.committed = this.walEnd;
      await this.emit(new ChangelogBuffer(this.config.slot, [], []), { lsn: formatLsn(this.walEnd) });
    }
  }

  private async onFrame(frame: ReplicationFrame): Promise<void> {
    if (frame.kind === 'keepalive') {
      if (frame.walEnd > this.walEnd) this.walEnd = frame.walEnd;
      if (frame.walEnd > this.serverLsn) this.serverLsn = frame.walEnd;
      if (frame.replyRequested) this.stream.sendStatus(this.source.confirmedLsn);
      return;
    }
    if (frame.end > this.serverLsn) this.serverLsn = frame.end;
    await this.onMessage(decodePgOutput(frame.payload));
  }

  private async onMessage(message: PgOutputMessage): Promise<void> {
    switch (message.tag) {
      case 'begin':
        this.inTransaction = true;
        this.time = message.commitTime;
        return;
      case 'commit':
        this.inTransaction = false;
        this.committed = message.endLsn;
        if (this.pending >= this.batchSize) await this.flush(true);
        return;
      case 'relation':
        return this.onRelation(message);
      case 'insert':
        return this.push(message.relation, 'c', message.values);
      case 'update': {
        const buffer = this.buffer(message.relation);
        if (message.old && keyChanged(buffer, message.old, message.values)) this.push(message.relation, 'd', message.old);
        return this.push(message.relation, 'u', message.values);
      }
      case 'delete':
        return this.push(message.relation, 'd', message.old);
      case 'truncate':
        this.ctx.logger.warn({ relations: message.relations }, 'TRUNCATE is not replicated as changes');
        return;
      default:
        return;
    }
  }

  private get batchSize(): number {
    return this.config.batch_size ?? this.ctx.batchSize;
  }

  private async onRelation(message: Extract<PgOutputMessage, { tag: 'relation' }>): Promise<void> {
    const previous = this.relations.get(message.oid);
    // Changes buffered under the old schema leave first, without advancing the position.
    if (previous && previous.size > 0) {
      this.pending -= previous.size;
      await this.emit(previous, { lsn: formatLsn(this.emitted) });
    }
    const table = `${message.schema}.${message.name}`;
    const types = await this.resolver.resolve(message.columns.map((c) => c.typeOid));
    const fields = message.columns.map((c, i) => arrowFieldOf(c.name, types[i]));
    let key = await primaryKey(this.meta, table).catch(() => [] as string[]);
    if (key.length === 0 || !key.every((k) => message.columns.some((c) => c.name === k))) key = message.columns.filter((c) => c.key).map((c) => c.name);
    this.relations.set(message.oid, new ChangelogBuffer(table, fields, key));
  }

  private buffer(relation: number): ChangelogBuffer {
    const buffer = this.relations.get(relation);
    if (!buffer) throw new SluiceError('SLUICE_SOURCE_FAILED', `pgoutput: change for unknown relation ${relation}`, { retriable: false });
    return buffer;
  }

  private async push(relation: number, op: string, values: TupleValues): Promise<void> {
    this.buffer(relation).push(op, values, this.time);
    if (this.pending++ === 0) this.pendingSince = Date.now();
    // A huge transaction is emitted in parts; the position only moves at its commit.
    if (this.pending >= this.batchSize * MAX_BUFFERED_BATCHES) await this.flush(false);
  }

  /** Emits every non-empty table buffer; the last batch carries the new position when `advance`. */
  private async flush(advance: boolean): Promise<void> {
    const buffers = [...this.relations.values()].filter((b) => b.size > 0);
    for (let i = 0; i < buffers.length; i++) {
      const last = i === buffers.length - 1;
      const lsn = advance && last ? this.committed : this.emitted;
      await this.emit(buffers[i], { lsn: formatLsn(lsn) });
    }
    if (advance) this.emitted = this.committed;
    this.pending = 0;
  }

  private async emit(buffer: ChangelogBuffer, position: CdcPosition): Promise<void> {
    await this.ctx.flow.acquire();
    this.lastEmitAt = Date.now();
    cdcEvents.inc({ slot: this.config.slot }, buffer.size);
    this.subscriber.next({ data: buffer.drain(), meta: { stream: buffer.table, partition: this.partition, position, kind: 'changelog' } });
  }
}

/** Whether an update moved a row to another key (the old key tuple differs from the new row). */
function keyChanged(buffer: ChangelogBuffer, old: TupleValues, values: TupleValues): boolean {
  return buffer.key.some((k) => {
    const i = buffer.fields.findIndex((f) => f.name === k);
    return i >= 0 && old[i] !== undefined && old[i] !== values[i];
  });
}

function sleep(ms: number): Promise<typeof TICK> {
  return new Promise((resolve) => setTimeout(() => resolve(TICK), ms).unref());
}
