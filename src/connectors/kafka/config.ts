import { scoped } from '../../core/config-scope.js';
import { Type, type Static } from '@sinclair/typebox';
import { DEBEZIUM_UNAVAILABLE_VALUE } from './encode.js';
import { breakerOnlySchema } from '../kit/resilience.js';

const Sasl = Type.Object(
  {
    mechanism: Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')]),
    username: Type.String({ minLength: 1, examples: ['orders-svc'] }),
    password: Type.String({
      description: 'Use an ${env:NAME} reference, never an inline value.',
      secret: true,
      examples: ['${env:KAFKA_PASSWORD}'],
    }),
  },
  { additionalProperties: false },
);

const SchemaRegistry = Type.Object(
  {
    url: Type.String({ minLength: 1, description: 'Confluent-compatible schema registry URL.', examples: ['http://127.0.0.1:8081'] }),
    auth: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, examples: ['registry-svc'] }),
          password: Type.String({
            description: 'Use an ${env:NAME} reference, never an inline value.',
            secret: true,
            examples: ['${env:SCHEMA_REGISTRY_PASSWORD}'],
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Where Avro schemas are registered (sink) and looked up by id (source); needed by format avro.',
  },
);

const ExactlyOnce = Type.Object(
  {
    transactional_id: Type.String({
      minLength: 1,
      description: 'Transactional id of the producer; a second instance with the same id fences the first.',
      examples: ['orders-mirror-1'],
    }),
    group_id: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Consumer group whose offsets commit with each transaction; defaults to the kafka source's group.",
        examples: ['orders-mirror'],
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Kafka→Kafka exactly-once (sink): each batch is produced in a transaction that also commits the kafka source's " +
      'offsets, and the source resumes from those committed offsets. Consumers of the output read with read_committed.',
  },
);

/** Config of the `kafka` connector: connection, then source options, then sink options. */
export const KafkaConfigSchema = Type.Object(
  {
    brokers: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      default: ['127.0.0.1:9092'],
      description: 'Bootstrap brokers, host:port.',
      examples: [['127.0.0.1:9092']],
    }),
    client_id: Type.String({ default: 'sluice', description: 'Client id the broker logs and quotas see.' }),
    ssl: Type.Boolean({ default: false, description: 'Connect with TLS.' }),
    sasl: Type.Optional(Sasl),
    format: Type.Union([Type.Literal('json'), Type.Literal('avro'), Type.Literal('raw')], {
      default: 'json',
      description:
        'Value encoding. json: one JSON object per message, object keys become columns. ' +
        'avro: Confluent wire format (magic byte, schema id, Avro body) through `schema_registry`. ' +
        'raw: the bytes as they are, in Binary columns `key` and `value`.',
    }),
    schema_registry: Type.Optional(SchemaRegistry),
    resilience: Type.Optional(breakerOnlySchema),

    ...scoped(
      { role: 'source' },
      {
        // Source
        topics: Type.Optional(
          Type.Array(Type.String({ minLength: 1 }), {
            request: true,
            minItems: 1,
            description: 'Topics to read (source).',
            examples: [['orders', 'payments']],
          }),
        ),
        group_id: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'Consumer group (source); defaults to `sluice-<node>`.',
            examples: ['orders-to-warehouse'],
          }),
        ),
        start_from: Type.Union([Type.Literal('earliest'), Type.Literal('latest'), Type.Literal('timestamp')], {
          default: 'earliest',
          request: true,
          description: 'Where a partition without a checkpoint or committed group offset starts.',
        }),
        start_timestamp: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: 'Epoch milliseconds; required when start_from is `timestamp`.',
            examples: [1704067200000],
          }),
        ),
        session_timeout_ms: Type.Integer({ minimum: 6000, default: 30000, description: 'Consumer group session timeout.' }),
      },
    ),
    ...scoped(
      { role: 'sink' },
      {
        // Sink
        topic: Type.Optional(
          Type.String({ request: true, minLength: 1, description: 'Topic to write (sink).', examples: ['orders-clean'] }),
        ),
        key_columns: Type.Optional(
          Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            request: true,
            description: "Columns forming the message key; defaults to a changelog's key (schema metadata `sluice.key`).",
            examples: [['order_id']],
          }),
        ),
        headers: Type.Record(Type.String(), Type.String(), {
          default: {},
          description: 'Static headers added to every message.',
          examples: [{ team: 'orders' }],
        }),
        compression: Type.Union([Type.Literal('none'), Type.Literal('gzip')], { default: 'gzip' }),
        envelope: Type.Union([Type.Literal('none'), Type.Literal('debezium')], {
          default: 'none',
          description:
            'none: the row as a JSON object. debezium: a Debezium change event ' +
            '(`before`, `after`, `op`, `ts_ms`, `source`) so Debezium consumers read it unchanged.',
        }),
        tombstones: Type.Boolean({
          default: true,
          description: 'With the debezium envelope, follow each delete with a null-valued message (compacted topics drop the key).',
        }),
        unavailable_value_placeholder: Type.String({
          default: DEBEZIUM_UNAVAILABLE_VALUE,
          description:
            'Written in place of a value the source could not read (PostgreSQL CDC: an unchanged TOAST value with REPLICA IDENTITY DEFAULT), ' +
            "as Debezium's unavailable.value.placeholder: text columns get it as text, binary ones as its UTF-8 bytes, text arrays as a " +
            'one-element array; columns of other types are left out of the value.',
        }),
        exactly_once: Type.Optional(ExactlyOnce),
      },
    ),
  },
  { additionalProperties: false },
);

export type KafkaConfig = Static<typeof KafkaConfigSchema>;

/** The consumer group of a kafka source node. */
export function consumerGroupOf(config: KafkaConfig, node: string): string {
  return config.group_id ?? `sluice-${node}`;
}
