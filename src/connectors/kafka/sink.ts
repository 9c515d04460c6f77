import { CompressionTypes, type Kafka, type Message, type Producer, type Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { rowsOf, type Batch } from '../../core/batch.js';
import { SluiceError, isSluiceError } from '../../core/errors.js';
import type { ConnectorContext, Sink, SinkOpenContext } from '../../core/ports.js';
import { encodeAvroBatch } from './avro-encoder.js';
import { AvroSerializer } from './avro-serializer.js';
import { connectMember, createKafkaClient, kafkaDatasource, parseTopicPartition } from './client.js';
import { Resilience } from '../kit/resilience.js';
import type { KafkaConfig } from './config.js';
import { encodeBatch } from './encode.js';
import { chunksOf } from './produce-chunks.js';
import { transactionalGroups } from './transactional-groups.js';

/** Broker answers meaning another producer with the same transactional id took over. */
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/**
 * Kafka sink: an idempotent producer (acks=all), so a retried send never duplicates.
 * `write()` resolves once the broker acknowledged every message of the batch.
 *
 * Values are JSON or, with `format: avro`, Avro registered in `schema_registry`; a batch whose
 * schema the registry refuses as incompatible is dead-lettered with the registry's reason.
 *
 * Exactly-once (`exactly_once`): every batch is one transaction holding its messages and the
 * source offsets it ends at (`sendOffsets` to the kafka source's consumer group). The group's
 * committed offsets therefore move only when the output commits, and the kafka source resumes
 * from them (not from the runtime's checkpoint, which may lag after a crash): output and input
 * position always agree. Opening the sink initializes the transactional id, which fences any
 * older instance with the same id (its next write fails, not retried) and aborts its open
 * transaction. Readers of the output use `read_committed`. Limits: offsets commit with non-empty
 * batches only (records filtered out at the end of a run are read again, and filtered again, on
 * restart). The topology compiler refuses what this cannot keep exact: another sink fed by the
 * same source (it would miss what it had not written at a crash) and a transform that holds rows
 * across batches in between (a batch's offsets would pass rows not yet written).
 */
export class KafkaSink implements Sink {
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly topic: string;
  private readonly avro: AvroSerializer | undefined;
  private deadLetter: SinkOpenContext['deadLetter'];
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private readonly resilience: Resilience;

  constructor(
    private readonly config: KafkaConfig,
    private readonly ctx: ConnectorContext,
  ) {
    this.topic = config.topic!;
    this.logger = ctx.logger.child({ connector: 'kafka', topic: config.topic });
    this.kafka = createKafkaClient(config, this.logger);
    this.avro = config.format === 'avro' ? new AvroSerializer(config.schema_registry!) : undefined;
    this.resilience = new Resilience(kafkaDatasource(config), config.resilience);
  }

  async open(ctx?: SinkOpenContext): Promise<void> {
    this.deadLetter = ctx?.deadLetter;
    if (this.config.exactly_once) {
      const claimed = transactionalGroups.claim(this.config.exactly_once.group_id);
      this.logger.info(
        { groups: claimed.map((m) => m.groupId), transactionalId: this.config.exactly_once.transactional_id },
        'exactly-once: offsets commit inside transactions',
      );
    }
    await this.connect();
  }

  async write(batch: Batch): Promise<void> {
    if (batch.data.numRows === 0) return;
    let messages: Message[];
    try {
      messages = await this.encode(batch);
    } catch (error) {
      if (isSluiceError(error) && error.code === 'SLUICE_SCHEMA_INCOMPATIBLE' && this.deadLetter) {
        this.logger.error({ err: error }, 'batch dead-lettered: incompatible schema');
        await this.deadLetter(
          batch,
          rowsOf(batch.data).map((record) => ({ node: this.ctx.node, reason: error.message, record, origin: { topic: this.topic } })),
        );
        return;
      }
      throw error;
    }
    const producer = await this.connect();
    const compression = this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    await this.resilience.call(async () => {
      try {
        if (this.config.exactly_once) await this.writeTransaction(producer, batch, messages, compression);
        else for (const chunk of chunksOf(messages)) await producer.send({ topic: this.topic, acks: -1, compression, messages: chunk });
      } catch (error) {
        if (isSluiceError(error)) throw error;
        throw new SluiceError('SLUICE_SINK_FAILED', `kafka produce to ${this.topic}: ${String(error)}`, { cause: error });
      }
    });
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private async encode(batch: Batch): Promise<Message[]> {
    const options = {
      keyColumns: this.config.key_columns,
      envelope: this.config.envelope,
      tombstones: this.config.tombstones,
      headers: this.config.headers,
      name: this.ctx.node,
      unavailablePlaceholder: this.config.unavailable_value_placeholder,
    };
    if (!this.avro) return encodeBatch(batch, options);
    const { messages, rejected } = await encodeAvroBatch(batch, this.topic, this.avro, options);
    if (rejected.length > 0) {
      // Retrying cannot help a value the schema cannot hold: dead-letter it, or fail for good.
      if (!this.deadLetter) throw new SluiceError('SLUICE_RECORD_INVALID', rejected[0].reason);
      await this.deadLetter(
        batch,
        rejected.map(({ record, reason }) => ({ node: this.ctx.node, reason, record, origin: { topic: this.topic } })),
      );
    }
    return messages;
  }

  /** One batch, and the source offsets it ends at, in one transaction. */
  private async writeTransaction(producer: Producer, batch: Batch, messages: Message[], compression: CompressionTypes): Promise<void> {
    const offsets = this.offsetsOf(batch);
    const transaction = await producer.transaction();
    try {
      for (const chunk of chunksOf(messages)) await transaction.send({ topic: this.topic, acks: -1, compression, messages: chunk });
      if (offsets) await transaction.sendOffsets(offsets);
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      // A new producer re-initializes the transactional id, which also aborts anything left open.
      await this.reset();
      const type = (error as { type?: string }).type;
      if (type && FENCED.has(type)) {
        throw new SluiceError(
          'SLUICE_SINK_FAILED',
          `kafka sink ${this.ctx.node} was fenced: another instance uses transactional id ${this.config.exactly_once!.transactional_id}`,
          {
            cause: error,
            retriable: false,
          },
        );
      }
      throw new SluiceError('SLUICE_SINK_FAILED', `kafka transaction to ${this.topic}: ${String(error)}`, { cause: error });
    }
  }

  /** Where the batch's kafka source partition will be after it, for `sendOffsets`. */
  private offsetsOf(batch: Batch): Parameters<Transaction['sendOffsets']>[0] | undefined {
    const { position, stream } = batch.meta;
    const groupId = this.config.exactly_once?.group_id ?? transactionalGroups.groupOf(stream);
    if (!groupId || typeof position !== 'string') return undefined;
    const { topic, partition } = parseTopicPartition(batch.meta.partition);
    if (topic !== stream || !Number.isInteger(partition)) return undefined;
    return { consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition, offset: position }] }] };
  }

  private async reset(): Promise<void> {
    const producer = await this.connecting?.catch(() => undefined);
    this.connecting = undefined;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private connect(): Promise<Producer> {
    this.connecting ??= (async () => {
      const transactionalId = this.config.exactly_once?.transactional_id;
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        ...(transactionalId ? { transactionalId, transactionTimeout: 60_000 } : {}),
      });
      try {
        await connectMember(this.config, producer);
        // kafkajs initializes the transactional id lazily; do it now so an older instance is fenced at once.
        if (transactionalId) await (await producer.transaction()).abort();
      } catch (error) {
        this.connecting = undefined;
        await producer.disconnect().catch(() => undefined);
        if (isSluiceError(error)) throw error;
        throw new SluiceError('SLUICE_CONNECTION_FAILED', `kafka ${this.config.brokers.join(',')}: ${String(error)}`, { cause: error });
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }
}
