import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { parseConfig } from '../../../core/config.js';
import { createKafkaClient } from '../client.js';
import { KafkaConfigSchema } from '../config.js';
import { buildRegistryApp } from './registry-app.js';
import { SchemaStore } from './schema-store.js';

export interface SchemaRegistryOptions {
  brokers: string[];
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Topic holding the registry's state; `_schemas` like Confluent's. */
  topic?: string;
  logger: Logger;
}

export interface RunningSchemaRegistry {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Replays the schemas topic, then serves the Confluent-compatible API on host:port. */
export async function startSchemaRegistry(options: SchemaRegistryOptions): Promise<RunningSchemaRegistry> {
  const kafka = createKafkaClient(
    parseConfig(KafkaConfigSchema, { brokers: options.brokers, client_id: 'sluice-schema-registry' }),
    options.logger,
  );
  const store = await SchemaStore.open(kafka, { topic: options.topic, logger: options.logger });
  const app = buildRegistryApp(store, options.logger);
  try {
    const url = await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
    return {
      url,
      app,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
