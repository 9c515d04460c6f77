import { Type, type Static } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { parseConfig } from '../../core/config.js';
import { registry } from '../../core/registry.js';
import { KeyState } from '../../state/key-state.js';
import { SYNC_HASH_SOURCE_TYPE } from './capabilities.js';
import { postgresConfigSchema } from './config.js';
import { SyncHashSource } from './sync-hash-source.js';

export const SyncHashSourceConfigSchema = Type.Object(
  {
    rule_id: Type.String({ minLength: 1, description: 'Sync rule whose keyed state is compared.' }),
    redis_url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis holding the keyed state.' }),
    key_prefix: Type.String({ default: 'sluice:sync:' }),
    counters_key: Type.String({ description: 'Redis hash receiving the run counters.' }),
    source: Type.Record(Type.String(), Type.Unknown(), { description: 'The postgresql connector config of the table (`table` required).' }),
  },
  { additionalProperties: false },
);
export type SyncHashSourceConfig = Static<typeof SyncHashSourceConfigSchema>;

/**
 * `sync_postgresql`: the source end of a full sync from a PostgreSQL table, with change
 * detection pushed down to the server (see SyncHashSource). A sync rule reaches it through the
 * postgresql connector's `syncHashSource` hook.
 */
export const syncHashSourceConnector = registry.connector({
  type: SYNC_HASH_SOURCE_TYPE,
  description:
    'Sync rule source: a PostgreSQL table read as the keys and rows changed since the last sync (row hashes computed by the server)',
  configSchema: SyncHashSourceConfigSchema,
  validate: (config) =>
    typeof config.source.table === 'string' ? [] : [{ path: 'source.table', message: 'a sync hash source reads a table' }],
  createSource(config: SyncHashSourceConfig) {
    const redis = new Redis(config.redis_url, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    return new SyncHashSource(parseConfig(postgresConfigSchema, config.source, 'rule.source_config'), {
      state: new KeyState(redis, config.rule_id, config.key_prefix),
      countersKey: config.counters_key,
      onClose: async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    });
  },
});
