import { Observable, type Subscriber } from 'rxjs';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Batch, Position } from '../../core/batch.js';
import { SluiceError } from '../../core/errors.js';
import type { ConnectorContext, ReadContext, Source } from '../../core/ports.js';
import { connectMember, createKafkaClient, parseTopicPartition, topicPartitionId } from './client.js';
import { consumerGroupOf, type KafkaConfig } from './config.js';
import { AvroSerializer } from './avro-serializer.js';
import { commitFailureOf, commitRetryPolicy } from './commit-errors.js';
import { decodeAvroMessages, decodeMessages, type DecodedMessages } from './decode.js';
import { transactionalGroups, type GroupMember } from './transactional-groups.js';
import { sleep } from '../kit/sleep.js';

/** One `read()` of one topic-partition. */
interface Reader {
  id: string;
  topic: string;
  partition: number;
  subscriber: Subscriber<Batch>;
  ctx: ReadContext;
  /** Start position resolved (checkpoint, timestamp): until then the partition is held. */
  ready: boolean;
  /** Offset of the next message to emit; where the consumer seeks on (re)assignment. */
  nextOffset: string | undefined;
  /** The group gave the partition to another member (or this one left the group) since this reader last owned it. */
  movedAway: boolean;
  /** Credits acquired and not yet spent on a batch (0 or 1). */
  granted: number;
  acquiring: boolean;
  closed: boolean;
  /** Set while the consumer waits in its batch handler for this reader's next credit. */
  wake?: () => void;
}

/** How long a fetched batch waits for a credit before its partition is paused instead. */
const CREDIT_WAIT_MS = 10_000;
/** Heartbeat interval while waiting, well inside any session timeout (6 s at least). */
const HEARTBEAT_MS = 1_000;

/**
 * Kafka source: one consumer group member per source; every topic-partition is a stream
 * partition (`orders:0`) with position = offset of the next message (a string). Offsets are
 * committed only in `commit()`, which the runtime calls after the checkpoint is stored, and only
 * for partitions this member still owns, so a rebalance never commits unacknowledged data. A
 * partition that comes back after another member had it continues from the newer of this
 * reader's position and the group's committed offset (`catchUp`).
 * Each batch spends one flow-control credit; without one the consumer waits for it a while
 * (heartbeating), then pauses the partition (rewinding to the first unemitted message) until a
 * credit arrives, so the group heartbeat keeps running however slow the sinks are.
 *
 * When an exactly-once kafka sink claims this source's group (see `transactionalGroups`), the
 * group's committed offsets are the truth: they move only inside the sink's transactions, so a
 * partition resumes from them, never from the runtime's checkpoint (which may lag the last
 * committed transaction after a crash), and `commit()` leaves them alone.
 */
export class KafkaSource implements Source, GroupMember {
  readonly groupId: string;
  readonly topics: string[];
  transactional = false;
  private readonly kafka: Kafka;
  private readonly node: string;
  private readonly logger: Logger;
  private readonly avro: AvroSerializer | undefined;
  private readonly readers = new Map<string, Reader>();
  /** Partitions paused by this source, by id. */
  private readonly held = new Set<string>();
  private assigned = new Set<string>();
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private starting: Promise<void> | undefined;
  private readonly commitPolicy = commitRetryPolicy();

  constructor(
    private readonly config: KafkaConfig,
    ctx: ConnectorContext,
  ) {
    this.topics = config.topics!;
    this.groupId = consumerGroupOf(config, ctx.node);
    this.logger = ctx.logger.child({ connector: 'kafka', group: this.groupId });
    this.kafka = createKafkaClient(config, this.logger);
    this.node = ctx.node;
    if (config.format === 'avro') this.avro = new AvroSerializer(config.schema_registry!);
    this.commitPolicy.onRetry(({ delay, ...reason }) =>
      this.logger.warn({ delay, err: 'error' in reason ? reason.error : undefined }, 'offset commit failed: retrying'),
    );
    transactionalGroups.add(this);
  }

  async partitions(): Promise<string[]> {
    const admin = await this.adminClient();
    const { topics } = await admin.fetchTopicMetadata({ topics: this.topics });
    return topics.flatMap((t) => t.partitions.map((p) => topicPartitionId(t.name, p.partitionId))).sort();
  }

  read(partition: string, from: Position | undefined, ctx: ReadContext): Observable<Batch> {
    return new Observable<Batch>((subscriber) => {
      const { topic, partition: number } = parseTopicPartition(partition);
      if (!this.topics.includes(topic) || !Number.isInteger(number)) {
        subscriber.error(
          new SluiceError('SLUICE_SOURCE_FAILED', `${partition} is not a partition of topics ${this.topics.join(', ')}`, {
            retriable: false,
          }),
        );
        return;
      }
      if (ctx.signal.aborted) {
        subscriber.complete();
        return;
      }
      const reader: Reader = {
        id: partition,
        topic,
        partition: number,
        subscriber,
        ctx,
        ready: false,
        nextOffset: undefined,
        movedAway: false,
        granted: 0,
        acquiring: false,
        closed: false,
      };
      this.readers
        .get(partition)
        ?.subscriber.error(new SluiceError('SLUICE_SOURCE_FAILED', `${partition} is read twice`, { retriable: false }));
      this.readers.set(partition, reader);
      const onAbort = (): void => {
        this.detach(reader);
        subscriber.complete();
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.requestCredit(reader);
      this.attach(reader, from).catch((error: unknown) => {
        this.detach(reader);
        subscriber.error(new SluiceError('SLUICE_SOURCE_FAILED', `kafka ${partition}: ${String(error)}`, { cause: error }));
      });
      return () => {
        ctx.signal.removeEventListener('abort', onAbort);
        this.detach(reader);
      };
    });
  }

  /**
   * Commits the offset while this member owns the partition. Transient failures (coordinator
   * moving or loading, timeouts, a broker restart) are retried with backoff; a commit is skipped
   * once the member lost the partition, to a rebalance or by leaving the group (the owner commits).
   */
  async commit(partition: string, position: Position): Promise<void> {
    // Offsets already committed with the output transaction; this (older) position must not move them back.
    if (this.transactional) return;
    const { topic, partition: number } = parseTopicPartition(partition);
    const offsets = [{ topic, partition: number, offset: String(position) }];
    try {
      await this.commitPolicy.execute(async () => {
        if (!this.consumer || !this.assigned.has(partition)) {
          this.logger.debug({ partition, position }, 'partition not owned by this member: offset not committed');
          return;
        }
        try {
          await this.consumer.commitOffsets(offsets);
        } catch (error) {
          if (this.assigned.has(partition) && commitFailureOf(error) !== 'rebalance') throw error;
          this.logger.warn({ partition, position, err: error }, 'offset commit skipped: this member lost the partition');
        }
      });
    } catch (error) {
      throw new SluiceError('SLUICE_SOURCE_FAILED', `kafka commit ${partition}@${String(position)}: ${String(error)}`, { cause: error });
    }
  }

  /** Partitions the group currently assigns to this member. */
  owned(): string[] {
    return [...this.assigned].sort();
  }

  async close(): Promise<void> {
    for (const reader of [...this.readers.values()]) {
      this.detach(reader);
      reader.subscriber.complete();
    }
    await this.starting?.catch(() => undefined);
    await this.consumer?.disconnect();
    await this.admin?.disconnect();
    transactionalGroups.remove(this);
    this.consumer = undefined;
    this.admin = undefined;
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await connectMember(this.config, admin);
      this.admin = admin;
    }
    return this.admin;
  }

  /** Resolves where the reader starts, then lets the consumer deliver its partition. */
  private async attach(reader: Reader, from: Position | undefined): Promise<void> {
    await this.ensureStarted();
    if (this.transactional) reader.nextOffset = undefined;
    else if (from !== undefined && from !== null) reader.nextOffset = String(from);
    else if (this.config.start_from === 'timestamp') reader.nextOffset = await this.offsetAtTimestamp(reader);
    reader.ready = true;
    if (reader.closed) return;
    if (this.assigned.has(reader.id) && reader.nextOffset !== undefined) this.seek(reader, reader.nextOffset);
    this.maybeResume(reader);
  }

  /** The group's committed offset if any (it wins, like for earliest/latest), else the first at the timestamp. */
  private async offsetAtTimestamp(reader: Reader): Promise<string | undefined> {
    if ((await this.committedOffset(reader)) !== undefined) return undefined;
    const admin = await this.adminClient();
    const byTime = await admin.fetchTopicOffsetsByTimestamp(reader.topic, this.config.start_timestamp);
    const offset = byTime.find((p) => p.partition === reader.partition)?.offset;
    if (offset !== undefined && offset !== '-1') return offset;
    // Nothing at or after the timestamp: start at the end.
    const ends = await admin.fetchTopicOffsets(reader.topic);
    return ends.find((p) => p.partition === reader.partition)?.high;
  }

  private async committedOffset(reader: Reader): Promise<string | undefined> {
    const admin = await this.adminClient();
    const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [reader.topic] });
    const offset = committed?.partitions.find((p) => p.partition === reader.partition)?.offset;
    return offset === undefined || offset === '-1' ? undefined : offset;
  }

  private ensureStarted(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.config.session_timeout_ms,
      maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    consumer.on(consumer.events.REBALANCING, () => {
      this.assigned = new Set();
    });
    // Stopped, also to restart after a crash (a broker restart): out of the group until it joins
    // again, and another member may read its partitions meanwhile.
    consumer.on(consumer.events.STOP, () => {
      this.assigned = new Set();
      for (const reader of this.readers.values()) reader.movedAway = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      const error = new SluiceError('SLUICE_SOURCE_FAILED', `kafka consumer ${this.groupId} stopped: ${String(payload.error)}`, {
        cause: payload.error,
      });
      for (const reader of [...this.readers.values()]) {
        this.detach(reader);
        reader.subscriber.error(error);
      }
    });
    await connectMember(this.config, consumer);
    await consumer.subscribe({ topics: this.topics, fromBeginning: this.config.start_from !== 'latest' });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    this.assigned = new Set(Object.entries(assignment).flatMap(([topic, ps]) => ps.map((p) => topicPartitionId(topic, p))));
    this.logger.info({ partitions: [...this.assigned] }, 'partitions assigned');
    for (const reader of this.readers.values()) {
      if (!this.assigned.has(reader.id)) reader.movedAway = true;
      else if (reader.ready && reader.movedAway) void this.catchUp(reader);
      // Continue after what this member already emitted instead of the (older) committed offset.
      else if (reader.ready && reader.nextOffset !== undefined) this.seek(reader, reader.nextOffset);
    }
  }

  /**
   * Another member may have read the partition since this one last owned it: continue from the
   * newer of this reader's own position and the offset the group committed meanwhile, instead of
   * replaying everything read since. The partition is held until that is known.
   */
  private async catchUp(reader: Reader): Promise<void> {
    reader.ready = false;
    reader.movedAway = false;
    const committed = await this.committedOffset(reader).catch((error: unknown) => {
      this.logger.warn({ partition: reader.id, err: error }, "committed offset unknown: continuing from this member's own position");
      return undefined;
    });
    if (reader.closed) return;
    if (committed !== undefined && (reader.nextOffset === undefined || BigInt(committed) > BigInt(reader.nextOffset)))
      reader.nextOffset = committed;
    reader.ready = true;
    if (!this.assigned.has(reader.id)) return;
    // Moved away and back again while the offset was fetched.
    if (reader.movedAway) return this.catchUp(reader);
    if (reader.nextOffset !== undefined) this.seek(reader, reader.nextOffset);
    this.maybeResume(reader);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const id = topicPartitionId(topic, partition);
    const reader = this.readers.get(id);
    if (!reader?.ready || reader.closed) {
      this.hold(topic, partition, batch.firstOffset() ?? undefined);
      return;
    }
    const from = reader.nextOffset === undefined ? undefined : BigInt(reader.nextOffset);
    const messages = from === undefined ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= from);
    // Everything fetched was emitted before (fetched ahead of a seek): let the consumer move on.
    if (messages.length === 0 && batch.messages.length > 0) resolveOffset(batch.lastOffset());
    const size = Math.max(1, reader.ctx.batchSize);
    for (let i = 0; i < messages.length; i += size) {
      if (!isRunning() || isStale() || reader.closed) return;
      if (reader.granted === 0) {
        this.requestCredit(reader);
        if (!(await this.awaitCredit(reader, heartbeat, isRunning, isStale))) {
          this.hold(topic, partition, messages[i].offset);
          // The credit may have come just as the wait gave up (a rebalance): then fetch again at once.
          this.maybeResume(reader);
          return;
        }
      }
      reader.granted--;
      const chunk = messages.slice(i, i + size);
      const last = chunk[chunk.length - 1].offset;
      const { data, deadLetters } = await this.decode(chunk, topic, partition);
      if (!isRunning() || isStale() || reader.closed) {
        // Stopped or rebalanced while decoding (Avro awaits the registry): nothing was emitted.
        reader.granted++;
        return;
      }
      reader.nextOffset = String(BigInt(last) + 1n);
      resolveOffset(last);
      reader.subscriber.next({
        data,
        meta: {
          stream: topic,
          partition: id,
          position: reader.nextOffset,
          kind: 'records',
          ...(deadLetters.length > 0 ? { deadLetters } : {}),
        },
      });
      this.requestCredit(reader);
    }
    await heartbeat();
  }

  private decode(messages: KafkaMessage[], topic: string, partition: number): DecodedMessages | Promise<DecodedMessages> {
    const where = { topic, partition, node: this.node };
    if (this.avro) return decodeAvroMessages(messages, this.avro, where);
    return decodeMessages(messages, this.config.format === 'raw' ? 'raw' : 'json', where);
  }

  /**
   * Waits a while, heartbeating, for the credit of the rest of a fetched batch: a fetch can hold
   * many batches' worth of messages (compressed), and giving them up means fetching and decoding
   * them again. False when the wait ran out or the group moved on: then the partition is held.
   */
  private async awaitCredit(
    reader: Reader,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
    isStale: () => boolean,
  ): Promise<boolean> {
    const deadline = Date.now() + CREDIT_WAIT_MS;
    while (reader.granted === 0) {
      if (reader.closed || !isRunning() || isStale() || Date.now() >= deadline) return false;
      const woken = new AbortController();
      reader.wake = () => woken.abort();
      await sleep(HEARTBEAT_MS, woken.signal);
      reader.wake = undefined;
      try {
        await heartbeat();
      } catch {
        return false;
      }
    }
    return !reader.closed;
  }

  /** Stops fetching a partition and rewinds the consumer to `offset` for when it resumes. */
  private hold(topic: string, partition: number, offset: string | undefined): void {
    const consumer = this.consumer;
    if (!consumer) return;
    this.held.add(topicPartitionId(topic, partition));
    consumer.pause([{ topic, partitions: [partition] }]);
    if (offset !== undefined) consumer.seek({ topic, partition, offset });
  }

  private seek(reader: Reader, offset: string): void {
    this.consumer?.seek({ topic: reader.topic, partition: reader.partition, offset });
  }

  private maybeResume(reader: Reader): void {
    if (!reader.ready || reader.closed || reader.granted === 0 || !this.held.has(reader.id)) return;
    this.held.delete(reader.id);
    this.consumer?.resume([{ topic: reader.topic, partitions: [reader.partition] }]);
  }

  /** Keeps one credit acquired ahead, so a batch can go out as soon as it is fetched. */
  private requestCredit(reader: Reader): void {
    if (reader.acquiring || reader.granted > 0 || reader.closed) return;
    reader.acquiring = true;
    reader.ctx.flow.acquire().then(
      () => {
        reader.acquiring = false;
        if (reader.closed) return;
        reader.granted++;
        reader.wake?.();
        this.maybeResume(reader);
      },
      (error: unknown) => reader.subscriber.error(error),
    );
  }

  private detach(reader: Reader): void {
    if (reader.closed) return;
    reader.closed = true;
    reader.wake?.();
    if (this.readers.get(reader.id) === reader) this.readers.delete(reader.id);
    if (this.assigned.has(reader.id)) this.hold(reader.topic, reader.partition, undefined);
  }
}
