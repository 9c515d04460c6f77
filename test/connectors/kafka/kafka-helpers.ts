import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { pino } from 'pino';
import type { Subscription } from 'rxjs';
import type { Batch, Position } from '../../../src/core/batch.js';
import { parseConfig } from '../../../src/core/config.js';
import type { ConnectorContext, FlowControl, ReadContext, Source } from '../../../src/core/ports.js';
import { KafkaConfigSchema, type KafkaConfig } from '../../../src/connectors/kafka/config.js';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const silent = pino({ level: 'silent' });
export const connectorContext: ConnectorContext = { node: 'kafka-test', logger: silent };

export function config(values: Partial<KafkaConfig>): KafkaConfig {
  return parseConfig(KafkaConfigSchema, { brokers: BROKERS, ...values });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A plain kafkajs client for checking what the connector did; fails fast when no broker answers. */
export const kafka = new Kafka({ brokers: BROKERS, clientId: 'sluice-test', logLevel: logLevel.NOTHING, retry: { retries: 3 } });

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const created: string[] = [];

export async function createTopic(partitions = 1, prefix = 'sluice-test'): Promise<string> {
  const topic = uniqueName(prefix);
  await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }));
  created.push(topic);
  return topic;
}

/** Deletes the topics this test file created, so the broker's data stays small across runs. */
export async function deleteCreatedTopics(): Promise<void> {
  const topics = created.splice(0);
  if (topics.length > 0) await withAdmin((admin) => admin.deleteTopics({ topics }));
}

/** Committed group offsets by partition number ('-1' = none). */
export async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
  const [entry] = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return Object.fromEntries(entry.partitions.map((p) => [p.partition, p.offset]));
}

export function readContext(signal: AbortSignal, batchSize = 1000, flow: FlowControl = { acquire: async () => undefined }): ReadContext {
  return { flow, signal, logger: silent, batchSize };
}

/** Reading a partition in the background: batches arrive in `batches`. */
export class Reading {
  readonly batches: Batch[] = [];
  readonly controller = new AbortController();
  completed = false;
  error: unknown;
  private readonly subscription: Subscription;

  constructor(source: Source, partition: string, from?: Position, batchSize = 1000, flow?: FlowControl) {
    this.subscription = source.read(partition, from, readContext(this.controller.signal, batchSize, flow)).subscribe({
      next: (b) => this.batches.push(b),
      error: (e: unknown) => (this.error = e),
      complete: () => (this.completed = true),
    });
  }

  get rows(): number {
    return this.batches.reduce((n, b) => n + b.data.numRows, 0);
  }

  stop(): void {
    this.controller.abort();
    this.subscription.unsubscribe();
  }
}

/** Polls until the condition holds; fails with `what` after the deadline (no timing is asserted). */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const pidFile = join(process.env.SLUICE_SERVICES_DIR ?? join(root, '.services'), 'kafka', 'kafka.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the broker the service script started, then starts it again and waits until it answers. */
export async function restartBroker(onStopped: () => void): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8'));
  if (!alive(pid)) throw new Error(`no broker process ${pid} (from ${pidFile}) to restart`);
  try {
    process.kill(pid, 'SIGTERM');
    await until('the broker to stop', () => !alive(pid), 60_000);
    onStopped();
  } finally {
    await run('bash', [join(root, 'scripts/services.sh'), 'up', 'kafka'], { timeout: 120_000 });
  }
}
