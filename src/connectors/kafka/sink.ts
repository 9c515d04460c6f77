import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Batch } from '../../core/batch.js';
import { SluiceError, isSluiceError } from '../../core/errors.js';
import type { ConnectorContext, Sink } from '../../core/ports.js';
import { createKafkaClient } from './client.js';
import type { KafkaConfig } from './config.js';
import { encodeBatch } from './encode.js';

/** Bytes of values per produce request, well under the broker's default 1 MiB record batch. */
const MAX_REQUEST_BYTES = 512 * 1024;

/**
 * Kafka sink: an idempotent producer (acks=all), so a retried send never duplicates.
 * `write()` resolves once the broker acknowledged every message of the batch.
 */
export class KafkaSink implements Sink {
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly topic: string;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly config: KafkaConfig,
    private readonly ctx: ConnectorContext,
  ) {
    if (!config.topic) throw new SluiceError('SLUICE_CONFIG_INVALID', `${ctx.node}: a kafka sink needs \`topic\``);
    this.topic = config.topic;
    this.logger = ctx.logger.child({ connector: 'kafka', topic: config.topic });
    this.kafka = createKafkaClient(config, this.logger);
  }

  async open(): Promise<void> {
    await this.connect();
  }

  async write(batch: Batch): Promise<void> {
    if (batch.data.numRows === 0) return;
    const messages: Message[] = encodeBatch(batch, {
      keyColumns: this.config.key_columns,
      envelope: this.config.envelope,
      tombstones: this.config.tombstones,
      headers: this.config.headers,
      name: this.ctx.node,
    });
    const producer = await this.connect();
    const compression = this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    try {
      for (const chunk of chunksOf(messages)) {
        await producer.send({ topic: this.topic, acks: -1, compression, messages: chunk });
      }
    } catch (error) {
      if (isSluiceError(error)) throw error;
      throw new SluiceError('SLUICE_SINK_FAILED', `kafka produce to ${this.topic}: ${String(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    const producer = await this.connecting?.catch(() => undefined);
    this.connecting = undefined;
    this.producer = undefined;
    await producer?.disconnect();
  }

  private connect(): Promise<Producer> {
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      try {
        await producer.connect();
      } catch (error) {
        this.connecting = undefined;
        throw new SluiceError('SLUICE_CONNECTION_FAILED', `kafka ${this.config.brokers.join(',')}: ${String(error)}`, { cause: error });
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }
}

/** Splits messages so one produce request stays under MAX_REQUEST_BYTES of values. */
function chunksOf(messages: Message[]): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (typeof m.value === 'string' ? Buffer.byteLength(m.value) : (m.value?.length ?? 0)) + 64;
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
