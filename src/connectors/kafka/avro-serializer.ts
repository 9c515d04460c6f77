import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { SluiceError, isSluiceError } from '../../core/errors.js';
import type { AvroSchema } from './avro-schema.js';

export interface SchemaRegistryConfig {
  url: string;
  auth?: { username: string; password: string };
}

/** A schema registered under a subject, ready to encode values. */
export interface RegisteredAvro {
  id: number;
  type: avro.Type;
}

/**
 * Avro `long` taking JS numbers and bigints (Arrow's Int64), so values beyond 2^53 encode
 * exactly; the bytes are plain Avro longs, readable by any consumer.
 */
const BIG_LONG = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(BigInt(n));
    return buffer;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isSafeInteger(n)),
  compare: (a: bigint | number, b: bigint | number) => (a === b ? 0 : a < b ? -1 : 1),
});

/** An avsc type for a schema whose longs may be bigints. */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { registry: { long: BIG_LONG } });
}

/** The Confluent wire format: magic byte 0, the schema id (4 bytes, big endian), the Avro body. */
export function wireFormat(id: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(id, 1);
  body.copy(out, 5);
  return out;
}

/**
 * Registers Avro schemas through `@kafkajs/confluent-schema-registry` (any Confluent-compatible
 * registry) and encodes values in the Confluent wire format. A schema is registered once per
 * subject and process; a changed schema registers a new version, which the registry accepts or
 * refuses by the subject's compatibility level. A refusal is a SLUICE_SCHEMA_INCOMPATIBLE error
 * naming the subject and the registry's reason.
 */
export class AvroSerializer {
  private readonly registry: SchemaRegistry;
  private readonly registered = new Map<string, Promise<RegisteredAvro>>();
  private readonly readers = new Map<number, Promise<avro.Type>>();

  constructor(config: SchemaRegistryConfig) {
    this.registry = new SchemaRegistry({ host: config.url, auth: config.auth, clientId: 'sluice', retry: { retries: 2 } });
  }

  /** Registers (or finds) `schema` under `subject`; cached by subject and schema text. */
  register(subject: string, schema: AvroSchema): Promise<RegisteredAvro> {
    const text = JSON.stringify(schema);
    const cacheKey = `${subject}\u0000${text}`;
    let entry = this.registered.get(cacheKey);
    if (!entry) {
      entry = this.registerNow(subject, text);
      this.registered.set(cacheKey, entry);
      // A failed registration is retried on the next batch, not cached.
      entry.catch(() => this.registered.delete(cacheKey));
    }
    return entry;
  }

  /**
   * Decodes a value in the Confluent wire format with the writer schema its id names (fetched
   * through the client, once per id). Longs decode as bigints, so 64-bit values stay exact.
   */
  async decode(buffer: Buffer): Promise<unknown> {
    if (buffer.length < 5 || buffer[0] !== 0)
      throw new SluiceError('SLUICE_RECORD_INVALID', 'not the Confluent wire format (no magic byte 0)');
    const id = buffer.readUInt32BE(1);
    let reader = this.readers.get(id);
    if (!reader) {
      reader = this.registry.getSchema(id).then((schema) => avroType((schema as unknown as avro.Type).schema() as avro.Schema));
      this.readers.set(id, reader);
      reader.catch(() => this.readers.delete(id));
    }
    return (await reader).fromBuffer(buffer.subarray(5));
  }

  /** Avro-encodes a value with a registered schema, in the wire format. */
  encode(schema: RegisteredAvro, value: unknown): Buffer {
    return wireFormat(schema.id, schema.type.toBuffer(value));
  }

  private async registerNow(subject: string, text: string): Promise<RegisteredAvro> {
    try {
      const schema = { type: SchemaType.AVRO, schema: text } as const;
      const { id } = await this.registry.register(schema, { subject }).catch((error: unknown) => {
        // The client insists the subject's level be the one it is told (BACKWARD by default); a subject
        // configured otherwise is fine here: register again telling it that level.
        const level = /Compatibility does not match the configuration \(\w+ != (\w+)\)/.exec((error as Error).message)?.[1];
        if (!level) throw error;
        return this.registry.register(schema, { subject, compatibility: level as COMPATIBILITY });
      });
      return { id, type: avroType(JSON.parse(text) as avro.Schema) };
    } catch (error) {
      if (isSluiceError(error)) throw error;
      const status = (error as { status?: number }).status;
      if (status === 409) {
        throw new SluiceError('SLUICE_SCHEMA_INCOMPATIBLE', `schema for subject ${subject} is incompatible: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (status !== undefined && status >= 400 && status < 500) {
        throw new SluiceError('SLUICE_SINK_FAILED', `schema registry refused subject ${subject}: ${(error as Error).message}`, {
          cause: error,
          retriable: false,
        });
      }
      throw new SluiceError('SLUICE_CONNECTION_FAILED', `schema registry: ${(error as Error).message}`, { cause: error });
    }
  }
}
