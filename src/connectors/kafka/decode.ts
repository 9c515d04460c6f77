import { Binary, Int32, Int64, Table, TimeUnit, Timestamp, Utf8, type RecordBatch, type Vector } from 'apache-arrow';
import type { KafkaMessage } from 'kafkajs';
import { recordBatchFromTable } from '../../core/batch.js';
import type { DeadLetter } from '../../core/dead-letter.js';
import { errorMessage } from '../../core/errors.js';
import { vectorOf } from '../kit/columns/make-builder.js';
import { DocumentInference } from '../kit/document-inference.js';
import { jsonText } from '../kit/json-text.js';

export interface DecodedMessages {
  data: RecordBatch;
  deadLetters: DeadLetter[];
}

interface Where {
  topic: string;
  partition: number;
  node: string;
}

/**
 * Arrow columns from Kafka messages. `json`: the keys of each value object become columns
 * (scalars typed Float64/Bool/Utf8; nested or mixed values as JSON text), a non-object value
 * lands in a `value` column, null values (tombstones) give no row and undecodable values are
 * dead letters. `raw`: Binary `key` and `value`. Both add `__key` (json only, UTF-8),
 * `__partition` (Int32), `__offset` (Int64) and `__timestamp` (ms) metadata columns.
 */
export function decodeMessages(messages: KafkaMessage[], format: 'json' | 'raw', where: Where): DecodedMessages {
  return format === 'raw' ? decodeRaw(messages, where) : decodeJson(messages, where);
}

function decodeRaw(messages: KafkaMessage[], where: Where): DecodedMessages {
  const columns: Record<string, Vector> = {
    key: vectorOf(
      new Binary(),
      messages.map((m) => m.key),
    ),
    value: vectorOf(
      new Binary(),
      messages.map((m) => m.value),
    ),
    ...metadataColumns(messages, where),
  };
  return { data: recordBatchFromTable(new Table(columns)), deadLetters: [] };
}

function decodeJson(messages: KafkaMessage[], where: Where): DecodedMessages {
  const decoded: DecodedRow[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const message of messages) {
    if (message.value === null) continue;
    const text = message.value.toString('utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      decoded.push({ message, row: asRow(parsed), key: message.key === null ? null : message.key.toString('utf8') });
    } catch (error) {
      deadLetters.push(deadLetter(message, where, `value is not JSON: ${errorMessage(error)}`, text));
    }
  }
  return { data: rowsToBatch(decoded, where), deadLetters };
}

/** Decodes schema ids through the registry (cached per id by the client). */
export interface AvroDecoder {
  decode(buffer: Buffer): Promise<unknown>;
}

/**
 * Arrow columns from Avro messages in the Confluent wire format, each decoded with the writer
 * schema its id names. Columns are built as for JSON (longs as Int64, records as JSON text); an Avro
 * key becomes `__key` as JSON text. Undecodable values (unknown id, not the wire format) are dead letters.
 */
export async function decodeAvroMessages(messages: KafkaMessage[], registry: AvroDecoder, where: Where): Promise<DecodedMessages> {
  const decoded: DecodedRow[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const message of messages) {
    if (message.value === null) continue;
    try {
      const value = await registry.decode(message.value);
      const key =
        message.key === null
          ? null
          : message.key[0] === 0 && message.key.length > 5
            ? jsonText(await registry.decode(message.key))
            : message.key.toString('utf8');
      decoded.push({ message, row: asRow(value), key });
    } catch (error) {
      deadLetters.push(
        deadLetter(
          message,
          where,
          `value is not Avro in the Confluent wire format: ${errorMessage(error)}`,
          message.value.toString('base64'),
        ),
      );
    }
  }
  return { data: rowsToBatch(decoded, where), deadLetters };
}

interface DecodedRow {
  message: KafkaMessage;
  row: Record<string, unknown>;
  key: string | null;
}

function asRow(parsed: unknown): Record<string, unknown> {
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && !Buffer.isBuffer(parsed)
    ? (parsed as Record<string, unknown>)
    : { value: parsed };
}

function deadLetter(message: KafkaMessage, where: Where, reason: string, record: string): DeadLetter {
  return { node: where.node, reason, record, origin: { topic: where.topic, partition: where.partition, offset: message.offset } };
}

/** Each batch gets the schema of its own messages (see DocumentInference for the type rules). */
function rowsToBatch(decoded: DecodedRow[], where: Where): RecordBatch {
  const columns: Record<string, Vector> = Object.fromEntries(new DocumentInference().vectors(decoded.map((d) => d.row)));
  columns.__key = vectorOf(
    new Utf8(),
    decoded.map((d) => d.key),
  );
  Object.assign(
    columns,
    metadataColumns(
      decoded.map((d) => d.message),
      where,
    ),
  );
  return recordBatchFromTable(new Table(columns));
}

function metadataColumns(messages: KafkaMessage[], where: Where): Record<string, Vector> {
  return {
    __partition: vectorOf(new Int32(), new Int32Array(messages.length).fill(where.partition)),
    __offset: vectorOf(
      new Int64(),
      messages.map((m) => m.offset),
    ),
    __timestamp: vectorOf(
      new Timestamp(TimeUnit.MILLISECOND),
      messages.map((m) => m.timestamp),
    ),
  };
}
