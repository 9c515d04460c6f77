import { registry } from '../../core/registry.js';
import { KafkaConfigSchema } from './config.js';
import { KafkaSink } from './sink.js';
import { KafkaSource } from './source.js';

/** The `kafka` connector: a consumer-group source and an idempotent-producer sink. */
export const kafkaConnector = registry.connector({
  type: 'kafka',
  description: 'Apache Kafka topics: consumer-group source (JSON or raw values), idempotent producer sink (JSON or Debezium change events).',
  configSchema: KafkaConfigSchema,
  createSource: (config, ctx) => new KafkaSource(config, ctx),
  createSink: (config, ctx) => new KafkaSink(config, ctx),
  unbounded: () => true,
});

export { KafkaSource, KafkaSink, KafkaConfigSchema };
export type { KafkaConfig } from './config.js';
