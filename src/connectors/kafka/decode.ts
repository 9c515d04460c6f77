import { Binary, Bool, Table, vectorFromArray, type RecordBatch, type Vector } from 'apache-arrow';
import type { KafkaMessage } from 'kafkajs';
import { recordBatchFromTable } from '../../core/batch.js';
import type { DeadLetter } from '../../core/dead-letter.js';
import { errorMessage } from '../../core/errors.js';
import { arrowColumns } from './arrow-columns.js';
import { toJson } from './encode.js';

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
    key: vectorFromArray(messages.map((m) => bytes(m.key)), new Binary()),
    value: vectorFromArray(messages.map((m) => bytes(m.value)), new Binary()),
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
      const key = message.key === null ? null : message.key[0] === 0 && message.key.length > 5 ? toJson(await registry.decode(message.key)) : message.key.toString('utf8');
      decoded.push({ message, row: asRow(value), key });
    } catch (error) {
      deadLetters.push(deadLetter(message, where, `value is not Avro in the Confluent wire format: ${errorMessage(error)}`, message.value.toString('base64')));
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
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && !Buffer.isBuffer(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
}

function deadLetter(message: KafkaMessage, where: Where, reason: string, record: string): DeadLetter {
  return { node: where.node, reason, record, origin: { topic: where.topic, partition: where.partition, offset: message.offset } };
}

function rowsToBatch(decoded: DecodedRow[], where: Where): RecordBatch {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const { row } of decoded) {
    for (const name of Object.keys(row)) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }
  const columns: Record<string, Vector> = {};
  for (const name of names) columns[name] = inferVector(decoded.map((d) => d.row[name]));
  columns.__key = arrowColumns.utf8(decoded.map((d) => d.key));
  Object.assign(columns, metadataColumns(decoded.map((d) => d.message), where));
  return recordBatchFromTable(new Table(columns));
}

function metadataColumns(messages: KafkaMessage[], where: Where): Record<string, Vector> {
  return {
    __partition: arrowColumns.int32(new Int32Array(messages.length).fill(where.partition)),
    __offset: arrowColumns.int64(messages.map((m) => m.offset)),
    __timestamp: arrowColumns.timestampMs(messages.map((m) => m.timestamp)),
  };
}

function bytes(buffer: Buffer | null): Uint8Array | null {
  return buffer === null ? null : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

type Kind = 'number' | 'bigint' | 'bool' | 'string' | 'json';

/** One column: a single scalar type keeps its Arrow type (Avro longs, as bigints, are Int64); anything else is JSON text. */
function inferVector(values: unknown[]): Vector {
  let kind: Kind | undefined;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const k: Kind = typeof v === 'number' ? 'number' : typeof v === 'bigint' ? 'bigint' : typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : 'json';
    kind = kind === undefined || kind === k ? k : 'json';
    if (kind === 'json') break;
  }
  if (kind === 'number') return arrowColumns.float64(values);
  if (kind === 'bigint') return arrowColumns.int64(values as Array<bigint | null | undefined>);
  if (kind === 'bool') return vectorFromArray(values.map((v) => (v === undefined ? null : v)), new Bool());
  if (kind === 'json') return arrowColumns.utf8(values.map((v) => (v === null || v === undefined || typeof v === 'string' ? v : toJson(v))));
  return arrowColumns.utf8(values as Array<string | null | undefined>);
}
