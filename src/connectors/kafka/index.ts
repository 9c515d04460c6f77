import { registry } from '../../core/registry.js';
import { KafkaConfigSchema } from './config.js';
import { KafkaSink } from './sink.js';
import { KafkaSource } from './source.js';

/** The `kafka` connector: a consumer-group source and an idempotent (or transactional) producer sink. */
export const kafkaConnector = registry.connector({
  type: 'kafka',
  description:
    'Apache Kafka topics: consumer-group source (JSON, Avro via a schema registry, or raw values), idempotent producer sink ' +
    '(JSON or Avro, rows or Debezium change events), exactly-once Kafka→Kafka with transactions.',
  configSchema: KafkaConfigSchema,
  createSource: (config, ctx) => new KafkaSource(config, ctx),
  createSink: (config, ctx) => new KafkaSink(config, ctx),
  unbounded: () => true,
});

export { KafkaSource, KafkaSink, KafkaConfigSchema };
export type { KafkaConfig } from './config.js';
