import { registry } from '../../core/registry.js';
import { KafkaConfigSchema, consumerGroupOf } from './config.js';
import { kafkaConfigRules } from './rules.js';
import { KafkaSink } from './sink.js';
import { KafkaSource } from './source.js';

/** The `kafka` connector: a consumer-group source and an idempotent (or transactional) producer sink. */
export const kafkaConnector = registry.connector({
  type: 'kafka',
  description:
    'Apache Kafka topics: consumer-group source (JSON, Avro via a schema registry, or raw values), idempotent producer sink ' +
    '(JSON or Avro, rows or Debezium change events), exactly-once Kafka→Kafka with transactions.',
  configSchema: KafkaConfigSchema,
  validate: kafkaConfigRules,
  createSource: (config, ctx) => new KafkaSource(config, ctx),
  createSink: (config, ctx) => new KafkaSink(config, ctx),
  unbounded: () => true,
  // An exactly-once sink claims the group it names, or every kafka source when it names none (see transactional-groups.ts).
  commitsSourcePositions: (sink, source) => {
    const claimed = sink.exactly_once?.group_id;
    return sink.exactly_once !== undefined && (claimed === undefined || claimed === consumerGroupOf(source.config, source.node));
  },
  // Keyed records make a compacted topic an upsert target; reads run until stopped.
  capabilities: ['upsert_sink'],
});

export { KafkaSource, KafkaSink, KafkaConfigSchema };
export type { KafkaConfig } from './config.js';
