import { Type, type Static } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { parseConfig } from '../core/config.js';
import { registry } from '../core/registry.js';
import { postgresConfigSchema } from '../connectors/postgresql/config.js';
import { KeyState } from './key-state.js';
import { PgHashSource } from './pg-hash-source.js';

export const SyncSourceConfigSchema = Type.Object(
  {
    rule_id: Type.String({ minLength: 1, description: 'Sync rule whose keyed state is compared.' }),
    redis_url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis holding the keyed state.' }),
    key_prefix: Type.String({ default: 'sluice:sync:' }),
    counters_key: Type.String({ description: 'Redis hash receiving the run counters.' }),
    postgres: Type.Record(Type.String(), Type.Unknown(), { description: 'The postgresql connector config of the table (`table` required).' }),
  },
  { additionalProperties: false },
);
export type SyncSourceConfig = Static<typeof SyncSourceConfigSchema>;

/**
 * `sync_postgresql`: the source end of a full sync from a PostgreSQL table, with change
 * detection pushed down to the server (see PgHashSource).
 */
export const syncSourceConnector = registry.connector({
  type: 'sync_postgresql',
  description: 'Sync rule source: a PostgreSQL table read as the keys and rows changed since the last sync (row hashes computed by the server)',
  configSchema: SyncSourceConfigSchema,
  createSource(config: SyncSourceConfig) {
    const redis = new Redis(config.redis_url, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    return new PgHashSource(parseConfig(postgresConfigSchema, config.postgres, 'rule.source_config'), {
      state: new KeyState(redis, config.rule_id, config.key_prefix),
      countersKey: config.counters_key,
      onClose: async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    });
  },
});
