import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { SluiceError, isSluiceError } from '../../core/errors.js';
import { ConnectionMetrics, type Datasource } from '../kit/connection-metrics.js';
import { Resilience } from '../kit/resilience.js';
import type { KafkaConfig } from './config.js';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client whose log lines go to the given pino logger. kafkajs logs retried,
 * transient broker answers (coordinator loading, rebalance) as errors, so those go out as warnings.
 */
export function createKafkaClient(config: KafkaConfig, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: config.client_id,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl as SASLOptions | undefined,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const name = level === logLevel.ERROR ? 'warn' : (LEVELS[level] ?? 'info');
        log[name](rest, message);
      },
  });
}

/** The cluster a config connects to: its bootstrap brokers. */
export function kafkaDatasource(config: KafkaConfig): Datasource {
  return { connector: 'kafka', name: [...config.brokers].sort().join(',') };
}

/** A kafkajs producer, consumer or admin client. */
interface KafkaMember {
  connect(): Promise<void>;
  on(event: string, listener: () => void): unknown;
  events: { DISCONNECT: string };
}

/**
 * Connects a producer, consumer or admin through the cluster's circuit breaker (kafkajs retries
 * the attempt itself), timing it and counting it in the connection metrics until it disconnects.
 * Throws SLUICE_CONNECTION_FAILED, or SLUICE_CIRCUIT_OPEN while the breaker is open.
 */
export async function connectMember(config: KafkaConfig, member: KafkaMember): Promise<void> {
  const datasource = kafkaDatasource(config);
  const metrics = new ConnectionMetrics(datasource);
  await new Resilience(datasource, { ...config.resilience, retries: 0 }).call(() =>
    metrics.connect(async () => {
      try {
        await member.connect();
      } catch (error) {
        throw isSluiceError(error)
          ? error
          : new SluiceError('SLUICE_CONNECTION_FAILED', `kafka ${datasource.name}: ${String(error)}`, { cause: error });
      }
    }),
  );
  member.on(member.events.DISCONNECT, metrics.opened());
}

/** `orders:3` → topic `orders`, partition 3 (topic names may contain `:`, partitions never). */
export function parseTopicPartition(partition: string): { topic: string; partition: number } {
  const at = partition.lastIndexOf(':');
  return { topic: partition.slice(0, at), partition: Number(partition.slice(at + 1)) };
}

export function topicPartitionId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
