import { Observable, type Subscriber } from 'rxjs';
import type pg from 'pg';
import type { Batch, Position } from '../../../core/batch.js';
import type { ReadContext, Source } from '../../../core/ports.js';
import { SluiceError } from '../../../core/errors.js';
import { acquireUnlessAborted } from '../../../core/flow-control.js';
import type { PostgresConfig } from '../config.js';
import { closeQuietly, connect, primaryKey, qualified } from '../client.js';
import { wrapSourceError } from '../client-read.js';
import { readTableCopy } from '../copy-reader.js';
import { ChangelogBuffer } from './changelog-buffer.js';
import { ChangeStream } from './change-stream.js';
import { ReplicationStream } from './replication-stream.js';
import { createSlot, dropSlot, ensurePublication, publicationTables, slotState } from './slot.js';
import { parseLsn } from './lsn.js';
import { cdcEvents } from './metrics.js';

/**
 * Position of the CDC partition: the end LSN of the last commit whose changes were all emitted.
 * `snapshot: 'running'` marks an initial snapshot not finished yet, from just before the slot is
 * created (a restart there drops the slot, if any, and snapshots again).
 */
export type CdcPosition = { lsn: string; snapshot?: 'running' };

/**
 * CDC by logical replication (pgoutput). One partition per slot, and changes leave in commit
 * order across tables (see ChangeStream). The slot is confirmed only in `commit()`, after the
 * runtime stored the checkpoint. Before it creates a slot for an initial snapshot, the source
 * emits a `snapshot: 'running'` marker and waits until it is committed, so a crash right after
 * the slot creation never resumes "from now" without the snapshot.
 */
export class CdcSource implements Source {
  private stream: ReplicationStream | undefined;
  private confirmed = 0n;
  /** Connections of each read in progress, closed when it ends (a retry gets its own). */
  private readonly runs = new Set<pg.Client[]>();
  /** Stops of the reads in progress, so that close() ends them. */
  private readonly stops = new Set<AbortController>();
  /** Resolves the wait for the snapshot marker to be checkpointed. */
  private markerStored: (() => void) | undefined;

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
      this.stops.add(stop);
      const closeRun = async () => {
        this.runs.delete(clients);
        this.stops.delete(stop);
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
    if (p?.snapshot) this.markerStored?.();
    if (!p || p.snapshot) return;
    const lsn = parseLsn(p.lsn);
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.stream?.sendStatus(lsn);
  }

  async close(): Promise<void> {
    for (const stop of this.stops) stop.abort();
    this.stream = undefined;
    const all = [...this.runs].flatMap((clients) => clients.splice(0));
    this.runs.clear();
    await Promise.all(all.map(closeQuietly));
  }

  private async run(
    partition: string,
    from: CdcPosition | undefined,
    ctx: ReadContext,
    signal: AbortSignal,
    subscriber: Subscriber<Batch>,
    clients: pg.Client[],
  ): Promise<void> {
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
    if (state?.walStatus === 'lost' && !from?.snapshot)
      throw slotError(
        `replication slot ${slot} is invalidated (the WAL it needed was removed): drop it and the checkpoint to snapshot again, or set on_slot_lost: resnapshot`,
      );
    if (from?.snapshot === 'running' && state) {
      ctx.logger.warn({ slot }, 'initial snapshot was interrupted: dropping the slot to snapshot again');
      await dropSlot(meta, slot);
      state = undefined;
    }
    let start: bigint;
    if (from && !from.snapshot) {
      if (!state)
        throw slotError(
          `replication slot ${slot} does not exist but the checkpoint is at ${from.lsn}: it was dropped, changes after it are lost; delete the checkpoint to snapshot again, or set on_slot_lost: resnapshot`,
        );
      start = parseLsn(from.lsn);
      if (state.confirmedFlushLsn && parseLsn(state.confirmedFlushLsn) > start) {
        // Only possible if a checkpoint write was lost after the slot was confirmed: say so loudly.
        ctx.logger.error(
          { slot, checkpoint: from.lsn, confirmed: state.confirmedFlushLsn },
          'slot is confirmed past the checkpoint: changes in between are not delivered again',
        );
      }
    } else if (!from?.snapshot && state) {
      if (!state.confirmedFlushLsn) throw slotError(`replication slot ${slot} has no confirmed position`);
      start = parseLsn(state.confirmedFlushLsn);
      ctx.logger.info({ slot, lsn: state.confirmedFlushLsn }, 'no checkpoint: resuming from the slot confirmed_flush_lsn');
    } else {
      if (this.config.snapshot === 'initial') await this.markSnapshotPending(partition, from?.lsn ?? '0/0', ctx, signal, subscriber);
      if (signal.aborted) return;
      const created = await createSlot(replication, slot, this.config.snapshot === 'initial');
      start = parseLsn(created.consistentPoint);
      ctx.logger.info({ slot, lsn: created.consistentPoint }, 'created replication slot');
      if (created.snapshotName)
        await this.snapshot(await open(), partition, created.snapshotName, created.consistentPoint, ctx, signal, subscriber);
    }
    if (signal.aborted) return;
    this.confirmed = start > this.confirmed ? start : this.confirmed;
    await new ChangeStream(
      this,
      partition,
      ReplicationStream.start(replication, slot, start, publication),
      meta,
      start,
      ctx,
      signal,
      subscriber,
    ).run();
  }

  /** Emits the `snapshot: 'running'` marker and waits until it is checkpointed (or the read stops). */
  private async markSnapshotPending(
    partition: string,
    lsn: string,
    ctx: ReadContext,
    signal: AbortSignal,
    subscriber: Subscriber<Batch>,
  ): Promise<void> {
    const stored = new Promise<void>((resolve) => {
      this.markerStored = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!(await acquireUnlessAborted(ctx.flow, signal))) return;
    subscriber.next({
      data: new ChangelogBuffer(this.config.slot, [], []).drain(),
      meta: { stream: this.config.slot, partition, position: { lsn, snapshot: 'running' }, kind: 'changelog' },
    });
    ctx.logger.debug({ slot: this.config.slot }, 'waiting for the snapshot marker checkpoint before creating the slot');
    await stored;
    this.markerStored = undefined;
  }

  /** Reads every published table in the snapshot the slot exported, as `r` changes. */
  private async snapshot(
    client: pg.Client,
    partition: string,
    snapshotName: string,
    lsn: string,
    ctx: ReadContext,
    signal: AbortSignal,
    subscriber: Subscriber<Batch>,
  ): Promise<void> {
    await client.query('begin isolation level repeatable read read only');
    await client.query(`set transaction snapshot '${snapshotName.replace(/'/g, "''")}'`);
    const time = BigInt(Date.now()) * 1000n;
    const position: CdcPosition = { lsn, snapshot: 'running' };
    for (const table of await publicationTables(client, this.config.publication)) {
      const key = await primaryKey(client, table);
      const full = await replicaIdentityFull(client, table);
      await readTableCopy(client, qualified(table), this.config.batch_size ?? ctx.batchSize, signal, async (fields, columns) => {
        const data = new ChangelogBuffer(table, fields, key, full).snapshotBatch(columns, time);
        if (!(await acquireUnlessAborted(ctx.flow, signal))) return;
        cdcEvents.inc({ slot: this.config.slot }, data.numRows);
        subscriber.next({ data, meta: { stream: table, partition, position, kind: 'changelog' } });
      });
      if (signal.aborted) return;
    }
    await client.query('commit');
    // The end of the snapshot: from here a restart streams from the slot.
    if (!(await acquireUnlessAborted(ctx.flow, signal))) return;
    subscriber.next({
      data: new ChangelogBuffer(this.config.slot, [], []).drain(),
      meta: { stream: this.config.slot, partition, position: { lsn } as CdcPosition, kind: 'changelog' },
    });
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
    if (state === undefined)
      return slotError(
        `replication slot ${this.config.slot} was dropped while streaming: changes after the checkpoint are lost; delete the checkpoint to snapshot again`,
        cause,
      );
    if (state !== 'unknown' && state.walStatus === 'lost')
      return slotError(`replication slot ${this.config.slot} was invalidated while streaming`, cause);
    return new SluiceError(
      'SLUICE_SOURCE_FAILED',
      `replication stream of slot ${this.config.slot} ended: ${cause instanceof Error ? cause.message : 'server closed it'}`,
      { cause },
    );
  }
}

/** Whether a table has REPLICA IDENTITY FULL: its batches carry `__before` (null for snapshot rows). */
async function replicaIdentityFull(client: pg.Client, table: string): Promise<boolean> {
  const { rows } = await client.query<{ full: boolean }>("select relreplident = 'f' as full from pg_class where oid = $1::regclass", [
    qualified(table),
  ]);
  return rows[0]?.full ?? false;
}

function slotError(message: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_SOURCE_FAILED', message, { retriable: false, cause });
}
