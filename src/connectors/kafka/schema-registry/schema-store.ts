import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { SluiceError } from '../../../core/errors.js';
import { incompatibilities, parseAvro, type CompatibilityLevel } from './compatibility.js';
import { REGISTRY_ERRORS, RegistryError } from './registry-error.js';

export interface SchemaVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  deleted: boolean;
}

/** Keys and values of the `_schemas` topic, in Confluent's layout. */
type SchemaKey = { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 };
type ConfigKey = { keytype: 'CONFIG'; subject: string | null; magic: 0 };
type NoopKey = { keytype: 'NOOP'; magic: 0 };
type StoreKey = SchemaKey | ConfigKey | NoopKey;

const NOOP_KEY: NoopKey = { keytype: 'NOOP', magic: 0 };

const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';

/**
 * The registry's state, kept in a compacted Kafka topic (`_schemas` by default) laid out as
 * Confluent's: one record per subject version (`{"keytype":"SCHEMA","subject":..,"version":..}` →
 * the version, `null` once permanently deleted), one per config (`{"keytype":"CONFIG","subject":..}`)
 * and a `NOOP` marker written at each startup to know where the replay ends.
 * `open()` replays the topic, so subjects, versions and ids survive restarts; ids are global
 * (the same schema text keeps its id under every subject) and never reused.
 * One registry process writes the topic; every change is durable (acks=all) before it is answered.
 */
export class SchemaStore {
  private readonly subjects = new Map<string, SchemaVersion[]>();
  private readonly schemasById = new Map<number, string>();
  private readonly idsBySchema = new Map<string, number>();
  private readonly levels = new Map<string | null, CompatibilityLevel>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  /** Connects, creates the compacted topic if needed and replays it. */
  static async open(kafka: Kafka, options: { topic?: string; logger: Logger }): Promise<SchemaStore> {
    const topic = options.topic ?? '_schemas';
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        await admin.createTopics({
          topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
          waitForLeaders: true,
        });
      }
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const store = new SchemaStore(producer, topic);
      // A marker written now is the last record to read back: unlike the high watermark, it cannot
      // have been compacted away (as Confluent's registry does with its NOOP records).
      const [marker] = await producer.send({ topic, acks: -1, messages: [{ key: JSON.stringify(NOOP_KEY), value: '{}' }] });
      await store.replay(kafka, admin, BigInt(marker.baseOffset ?? '0') + 1n);
      options.logger.info({ topic, subjects: store.subjects.size, schemas: store.schemasById.size }, 'schema registry state replayed');
      return store;
    } catch (error) {
      throw new SluiceError('SLUICE_CONNECTION_FAILED', `schema registry store ${topic}: ${String(error)}`, { cause: error });
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.producer.disconnect();
  }

  /** Subjects with a live version (or any version when `deleted`). */
  subjectNames(deleted = false): string[] {
    return [...this.subjects]
      .filter(([, versions]) => versions.some((v) => deleted || !v.deleted))
      .map(([s]) => s)
      .sort();
  }

  versions(subject: string, deleted = false): SchemaVersion[] {
    const versions = (this.subjects.get(subject) ?? []).filter((v) => deleted || !v.deleted);
    if (versions.length === 0) throw new RegistryError(REGISTRY_ERRORS.subjectNotFound, `Subject '${subject}' not found.`);
    return versions;
  }

  /** A version by number, or the latest for `latest` / -1. */
  version(subject: string, version: string, deleted = false): SchemaVersion {
    const versions = this.versions(subject, deleted);
    if (version === 'latest' || version === '-1') return versions[versions.length - 1];
    const n = Number(version);
    if (!Number.isInteger(n) || n < 1) {
      throw new RegistryError(
        REGISTRY_ERRORS.invalidVersion,
        `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
      );
    }
    const found = versions.find((v) => v.version === n);
    if (!found) throw new RegistryError(REGISTRY_ERRORS.versionNotFound, `Version ${version} not found.`);
    return found;
  }

  schemaById(id: number): string {
    const schema = this.schemasById.get(id);
    if (schema === undefined) throw new RegistryError(REGISTRY_ERRORS.schemaNotFound, `Schema ${id} not found`);
    return schema;
  }

  /** The live version of a subject holding this schema. */
  lookup(subject: string, schema: string): SchemaVersion {
    const versions = this.versions(subject);
    const text = canonical(schema);
    const found = versions.find((v) => v.schema === text);
    if (!found) throw new RegistryError(REGISTRY_ERRORS.schemaNotFound, 'Schema not found');
    return found;
  }

  level(subject: string | null): CompatibilityLevel {
    return (subject !== null ? this.levels.get(subject) : undefined) ?? this.levels.get(null) ?? DEFAULT_LEVEL;
  }

  /** The subject's own level, if one was set. */
  subjectLevel(subject: string): CompatibilityLevel | undefined {
    return this.levels.get(subject);
  }

  /** Why `schema` may not be registered under `subject` (empty = it may). */
  check(subject: string, schema: string, against?: SchemaVersion): string[] {
    const text = canonical(schema);
    const live = against ? [against] : (this.subjects.get(subject) ?? []).filter((v) => !v.deleted);
    const level = this.level(subject);
    // A single version given explicitly is checked in the level's direction, without transitivity.
    return incompatibilities(
      against ? (level.replace('_TRANSITIVE', '') as CompatibilityLevel) : level,
      text,
      live.map((v) => v.schema),
    );
  }

  /** Registers a schema under a subject (or returns the version already holding it). */
  register(subject: string, schema: string): Promise<SchemaVersion> {
    return this.serialized(async () => {
      const text = canonical(schema);
      const versions = this.subjects.get(subject) ?? [];
      const existing = versions.find((v) => !v.deleted && v.schema === text);
      if (existing) return existing;
      const problems = this.check(subject, text);
      if (problems.length > 0) {
        throw new RegistryError(
          REGISTRY_ERRORS.incompatibleSchema,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${problems.join('; ')}]`,
        );
      }
      const id = this.idsBySchema.get(text) ?? Math.max(0, ...this.schemasById.keys()) + 1;
      const version: SchemaVersion = { subject, version: (versions.at(-1)?.version ?? 0) + 1, id, schema: text, deleted: false };
      await this.write({ keytype: 'SCHEMA', subject, version: version.version, magic: 1 }, version);
      return version;
    });
  }

  /** Soft-deletes every live version, or with `permanent` removes soft-deleted ones for good. */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.serialized(async () => {
      const all = this.versions(subject, true);
      if (permanent && all.some((v) => !v.deleted)) {
        throw new RegistryError(
          REGISTRY_ERRORS.subjectNotSoftDeleted,
          `Subject '${subject}' was not deleted first before being permanently deleted`,
        );
      }
      const targets = permanent ? all : this.versions(subject);
      for (const v of targets) await this.remove(v, permanent);
      if (permanent) await this.write({ keytype: 'CONFIG', subject, magic: 0 }, null);
      return targets.map((v) => v.version);
    });
  }

  deleteVersion(subject: string, version: string, permanent: boolean): Promise<number> {
    return this.serialized(async () => {
      const target = this.version(subject, version, permanent);
      if (permanent && !target.deleted) {
        throw new RegistryError(
          REGISTRY_ERRORS.schemaVersionNotSoftDeleted,
          `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
        );
      }
      await this.remove(target, permanent);
      return target.version;
    });
  }

  setLevel(subject: string | null, level: CompatibilityLevel): Promise<void> {
    return this.serialized(() => this.write({ keytype: 'CONFIG', subject, magic: 0 }, { compatibilityLevel: level }));
  }

  private remove(version: SchemaVersion, permanent: boolean): Promise<void> {
    const key: SchemaKey = { keytype: 'SCHEMA', subject: version.subject, version: version.version, magic: 1 };
    return this.write(key, permanent ? null : { ...version, deleted: true });
  }

  /** Makes a change durable in the topic, then applies it. */
  private async write(key: StoreKey, value: unknown): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: JSON.stringify(key), value: value === null ? null : JSON.stringify(value) }],
    });
    this.apply(key, value);
  }

  private apply(key: StoreKey, value: unknown): void {
    if (key.keytype === 'NOOP') return;
    if (key.keytype === 'CONFIG') {
      const level = (value as { compatibilityLevel?: CompatibilityLevel } | null)?.compatibilityLevel;
      if (level) this.levels.set(key.subject, level);
      else this.levels.delete(key.subject);
      return;
    }
    const versions = (this.subjects.get(key.subject) ?? []).filter((v) => v.version !== key.version);
    if (value !== null) {
      const v = value as SchemaVersion;
      versions.push(v);
      versions.sort((a, b) => a.version - b.version);
      this.schemasById.set(v.id, v.schema);
      this.idsBySchema.set(v.schema, v.id);
    }
    if (versions.length > 0) this.subjects.set(key.subject, versions);
    else this.subjects.delete(key.subject);
  }

  /** Reads the topic from its start up to `end`, applying every record in order. */
  private async replay(kafka: Kafka, admin: ReturnType<Kafka['admin']>, end: bigint): Promise<void> {
    const groupId = `sluice-schema-registry-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        // kafkajs restarts the consumer itself after a retriable crash (e.g. a coordinator still
        // loading on a fresh broker); only a final one ends the replay.
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (!payload.restart) reject(payload.error);
        });
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ message }) => {
              if (message.key)
                this.apply(
                  JSON.parse(message.key.toString()) as StoreKey,
                  message.value === null ? null : JSON.parse(message.value.toString()),
                );
              if (BigInt(message.offset) + 1n >= end) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/**
 * The stored text of a schema: the submitted JSON, validated by avsc and re-serialized without
 * whitespace, so attributes avsc does not interpret (logical types, docs) reach readers intact and
 * the same schema submitted twice gets the same id. Invalid → 42201.
 */
export function canonical(schema: string): string {
  try {
    parseAvro(schema);
    return JSON.stringify(JSON.parse(schema));
  } catch (error) {
    throw new RegistryError(REGISTRY_ERRORS.invalidSchema, `Invalid schema: ${(error as Error).message}`);
  }
}
