import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
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

/** `orders:3` → topic `orders`, partition 3 (topic names may contain `:`, partitions never). */
export function parseTopicPartition(partition: string): { topic: string; partition: number } {
  const at = partition.lastIndexOf(':');
  return { topic: partition.slice(0, at), partition: Number(partition.slice(at + 1)) };
}

export function topicPartitionId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
