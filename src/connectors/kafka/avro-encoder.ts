import type { Message } from 'kafkajs';
import type { Batch } from '../../core/batch.js';
import { errorMessage } from '../../core/errors.js';
import { avroRecordOf, type AvroRecordType, type AvroSchema } from './avro-schema.js';
import type { AvroSerializer } from './avro-serializer.js';
import { changeRecords, resolveKeyColumns, valueColumnsOf, type EncodeOptions } from './encode.js';

export interface AvroMessages {
  messages: Message[];
  /** Records a value of which Avro cannot hold (e.g. a non-finite number in a long), with why. */
  rejected: Array<{ record: unknown; reason: string }>;
}

/** The `source` block of a Debezium envelope, as an Avro record. */
const SOURCE_SCHEMA: AvroSchema = {
  type: 'record',
  name: 'Source',
  fields: [
    { name: 'version', type: 'string' },
    { name: 'connector', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'ts_ms', type: ['null', 'long'], default: null },
    { name: 'snapshot', type: ['null', 'string'], default: null },
    { name: 'table', type: ['null', 'string'], default: null },
  ],
};

/**
 * Kafka messages for a batch with Avro keys and values. Schemas come from the batch's Arrow
 * schema and are registered by TopicNameStrategy: `<topic>-value` and, when the batch has key
 * columns, `<topic>-key` (a record of the key columns, as Debezium and Kafka Connect key them).
 * With the Debezium envelope the value is an `Envelope` record whose `before`/`after` are
 * nullable `Value` records, so Debezium's Avro consumers read it unchanged.
 */
export async function encodeAvroBatch(
  batch: Batch,
  topic: string,
  serializer: AvroSerializer,
  options: EncodeOptions,
): Promise<AvroMessages> {
  const namespace = `sluice.${topic.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const fields = batch.data.schema.fields;
  const valueColumns = new Set(valueColumnsOf(batch.data.schema));
  const row = avroRecordOf(
    fields.filter((f) => valueColumns.has(f.name)),
    'Value',
    namespace,
  );
  const keyColumns = resolveKeyColumns(batch, options.keyColumns);
  const keyType =
    keyColumns.length > 0
      ? avroRecordOf(
          keyColumns.map((k) => fields.find((f) => f.name === k)!),
          'Key',
          namespace,
        )
      : undefined;
  const debezium = options.envelope === 'debezium';
  const valueSchema = debezium ? envelopeSchema(row.schema, namespace) : row.schema;

  const [value, key] = await Promise.all([
    serializer.register(`${topic}-value`, valueSchema),
    keyType ? serializer.register(`${topic}-key`, keyType.schema) : undefined,
  ]);
  const messages: Message[] = [];
  const rejected: AvroMessages['rejected'] = [];
  // Records share header objects (one per op); so do their messages.
  const headerSets = new Map<Record<string, string>, Record<string, string>>();
  const withSchemaId = (headers: Record<string, string>): Record<string, string> => {
    let out = headerSets.get(headers);
    if (!out) headerSets.set(headers, (out = { ...headers, 'sluice.schema.id': String(value.id) }));
    return out;
  };
  for (const record of changeRecords(batch, options)) {
    try {
      messages.push({
        key: record.key === null || !key || !keyType ? null : serializer.encode(key, keyType.convert(record.key)),
        value:
          record.value === null ? null : serializer.encode(value, debezium ? envelopeValue(record.value, row) : row.convert(record.value)),
        headers: withSchemaId(record.headers),
      });
    } catch (error) {
      rejected.push({
        record: record.value ?? record.key,
        reason: `not encodable with schema ${value.id} of ${topic}-value: ${errorMessage(error)}`,
      });
    }
  }
  return { messages, rejected };
}

function envelopeSchema(value: AvroSchema, namespace: string): AvroSchema {
  return {
    type: 'record',
    name: 'Envelope',
    namespace,
    fields: [
      { name: 'before', type: ['null', value], default: null },
      { name: 'after', type: ['null', `${namespace}.Value`], default: null },
      { name: 'source', type: SOURCE_SCHEMA },
      { name: 'op', type: 'string' },
      { name: 'ts_ms', type: ['null', 'long'], default: null },
    ],
  };
}

function envelopeValue(envelope: Record<string, unknown>, row: AvroRecordType): Record<string, unknown> {
  const before = envelope.before as Record<string, unknown> | null;
  const after = envelope.after as Record<string, unknown> | null;
  return { ...envelope, before: before && row.convert(before), after: after && row.convert(after) };
}
