import type { Subscriber } from 'rxjs';
import type pg from 'pg';
import type { Field } from 'apache-arrow';
import type { Batch } from '../../../core/batch.js';
import type { ReadContext } from '../../../core/ports.js';
import { SluiceError } from '../../../core/errors.js';
import { race } from '../../../core/race.js';
import { acquireUnlessAborted } from '../../../core/flow-control.js';
import type { PostgresConfig } from '../config.js';
import { primaryKey } from '../client.js';
import { TypeResolver, arrowFieldOf } from '../types.js';
import { Op, type ChangeOp } from '../../../core/changelog.js';
import { ChangelogBuffer } from './changelog-buffer.js';
import { decodePgOutput, type PgOutputMessage, type TupleValues } from './pgoutput.js';
import type { ReplicationStream, ReplicationFrame } from './replication-stream.js';
import { formatLsn } from './lsn.js';
import { activeSlots, cdcEvents } from './metrics.js';
import type { CdcPosition, CdcSource } from './cdc-source.js';

const STATUS_INTERVAL_MS = 10_000;
/** A transaction bigger than this many batches is emitted in parts (without advancing the position). */
const MAX_BUFFERED_BATCHES = 4;
const TICK = Symbol('tick');

/** A relation as the last Relation message described it. */
interface Relation {
  table: string;
  fields: Field[];
  key: string[];
  /** REPLICA IDENTITY FULL: updates and deletes carry the whole old row. */
  full: boolean;
}

/** Consecutive changes of one relation (one schema): one batch. */
interface Segment {
  relation: Relation;
  buffer: ChangelogBuffer;
  /** A TRUNCATE segment takes no further changes. */
  sealed: boolean;
}

/**
 * The streaming loop of one read: decodes pgoutput and emits changes in commit order. Changes
 * are kept as a list of segments, a new one whenever the table (or its schema) changes, so a
 * multi-table transaction becomes consecutive batches in its own order. Only the last batch of a
 * flush carries the new commit LSN; the others carry the previous one, so the checkpoint never
 * lands inside a transaction.
 */
export class ChangeStream {
  private readonly relations = new Map<number, Relation>();
  private segments: Segment[] = [];
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
    // Lives for the whole session: raced with `race`, which lets each frame go once it is handled.
    const aborted = new Promise<typeof TICK>((resolve) => this.signal.addEventListener('abort', () => resolve(TICK), { once: true }));
    const frames = this.stream.frames();
    const delay = Math.min(this.config.max_batch_delay_ms, this.config.heartbeat_ms);
    let tick = sleep(delay);
    try {
      let next = frames.next();
      while (!this.signal.aborted) {
        const result = await race([next, tick, aborted]).catch(async (error: unknown) => {
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
        const relation = this.relation(message.relation);
        // With REPLICA IDENTITY FULL the old row is whole: it fills unchanged TOAST values in.
        const before = relation.full && message.old && !message.oldIsKey ? message.old : undefined;
        const values = before ? message.values.map((v, i) => (v === undefined ? before[i] : v)) : message.values;
        if (message.old && keyChanged(relation, message.old, values)) await this.push(message.relation, 'd', message.old, before);
        return this.push(message.relation, 'u', values, before);
      }
      case 'delete': {
        const full = this.relation(message.relation).full && !message.oldIsKey;
        return this.push(message.relation, 'd', message.old, full ? message.old : undefined);
      }
      case 'truncate':
        for (const oid of message.relations) await this.truncate(oid);
        return;
      default:
        return;
    }
  }

  private get batchSize(): number {
    return this.config.batch_size ?? this.ctx.batchSize;
  }

  private async onRelation(message: Extract<PgOutputMessage, { tag: 'relation' }>): Promise<void> {
    // Buffered changes keep the relation they were made under: a new schema starts a new segment.
    const table = `${message.schema}.${message.name}`;
    const types = await this.resolver.resolve(message.columns.map((c) => c.typeOid));
    const fields = message.columns.map((c, i) => arrowFieldOf(c.name, types[i]));
    let key = await primaryKey(this.meta, table).catch(() => [] as string[]);
    if (key.length === 0 || !key.every((k) => message.columns.some((c) => c.name === k)))
      key = message.columns.filter((c) => c.key).map((c) => c.name);
    this.relations.set(message.oid, { table, fields, key, full: message.replicaIdentity === 'f' });
  }

  private relation(oid: number): Relation {
    const relation = this.relations.get(oid);
    if (!relation) throw new SluiceError('SLUICE_SOURCE_FAILED', `pgoutput: change for unknown relation ${oid}`, { retriable: false });
    return relation;
  }

  /**
   * The open segment of a relation: the last segment (cdc_order commit) or the relation's last
   * one (cdc_order table), unless it is another relation's or sealed; else a new one.
   */
  private segment(relation: Relation): Segment {
    let i = this.segments.length - 1;
    if (this.config.cdc_order === 'table') while (i >= 0 && this.segments[i].relation !== relation) i--;
    const last = this.segments[i] as Segment | undefined;
    if (last && last.relation === relation && !last.sealed) return last;
    const segment = { relation, buffer: new ChangelogBuffer(relation.table, relation.fields, relation.key, relation.full), sealed: false };
    this.segments.push(segment);
    return segment;
  }

  private async push(oid: number, op: ChangeOp, values: TupleValues, before?: TupleValues): Promise<void> {
    this.segment(this.relation(oid)).buffer.push(op, values, this.time, before);
    await this.counted();
  }

  /** A TRUNCATE as a batch of its own: one `t` row with null columns. */
  private async truncate(oid: number): Promise<void> {
    const relation = this.relation(oid);
    const segment = { relation, buffer: new ChangelogBuffer(relation.table, relation.fields, relation.key, relation.full), sealed: true };
    segment.buffer.push(
      Op.truncate,
      relation.fields.map(() => null),
      this.time,
    );
    this.segments.push(segment);
    await this.counted();
  }

  private async counted(): Promise<void> {
    if (this.pending++ === 0) this.pendingSince = Date.now();
    // A huge transaction is emitted in parts; the position only moves at its commit.
    if (this.pending >= this.batchSize * MAX_BUFFERED_BATCHES) await this.flush(false);
  }

  /** Emits every segment in order; the last batch carries the new position when `advance`. */
  private async flush(advance: boolean): Promise<void> {
    const segments = this.segments;
    this.segments = [];
    for (let i = 0; i < segments.length; i++) {
      const lsn = advance && i === segments.length - 1 ? this.committed : this.emitted;
      await this.emit(segments[i].buffer, { lsn: formatLsn(lsn) });
    }
    if (advance) this.emitted = this.committed;
    this.pending = 0;
  }

  private async emit(buffer: ChangelogBuffer, position: CdcPosition): Promise<void> {
    if (!(await acquireUnlessAborted(this.ctx.flow, this.signal))) return;
    this.lastEmitAt = Date.now();
    cdcEvents.inc({ slot: this.config.slot }, buffer.size);
    this.subscriber.next({ data: buffer.drain(), meta: { stream: buffer.table, partition: this.partition, position, kind: 'changelog' } });
  }
}

/** Whether an update moved a row to another key (the old key tuple differs from the new row). */
function keyChanged(relation: Relation, old: TupleValues, values: TupleValues): boolean {
  return relation.key.some((k) => {
    const i = relation.fields.findIndex((f) => f.name === k);
    return i >= 0 && old[i] !== undefined && old[i] !== values[i];
  });
}

function sleep(ms: number): Promise<typeof TICK> {
  return new Promise((resolve) => setTimeout(() => resolve(TICK), ms).unref());
}
