import { Type, type Static } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { parseConnectorConfig } from '../core/definition-config.js';
import { SluiceError } from '../core/errors.js';
import type { ConnectorContext } from '../core/ports.js';
import { registry } from '../core/registry.js';
import { KeyState } from '../state/key-state.js';
import { SyncSink } from './sync-sink.js';

export const SyncTargetConfigSchema = Type.Object(
  {
    rule_id: Type.String({ minLength: 1, description: 'Sync rule whose keyed state is used.' }),
    redis_url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis holding the keyed state.' }),
    key_prefix: Type.String({ default: 'sluice:sync:' }),
    counters_key: Type.String({ description: 'Redis hash receiving the run counters.' }),
    key: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'Key columns; default: the key batches declare.' })),
    track_deletes: Type.Boolean({
      default: false,
      description: 'Delete at the target the keys a complete read did not see (full and snapshot sync).',
    }),
    operations: Type.Array(Type.Union([Type.Literal('c'), Type.Literal('u'), Type.Literal('d')]), { default: ['c', 'u', 'd'] }),
    target: Type.Object(
      { type: Type.String(), config: Type.Record(Type.String(), Type.Unknown()) },
      { description: 'The connector the changes are written to.' },
    ),
  },
  { additionalProperties: false },
);
export type SyncTargetConfig = Static<typeof SyncTargetConfigSchema>;

/**
 * `sync_target`: the sink end of a compiled sync rule. It wraps the target connector's sink in
 * the keyed-state change detector, so only new, changed and deleted keys are written.
 */
export const syncTargetConnector = registry.connector({
  type: 'sync_target',
  description: 'Sync rule target: writes only the keys that changed since the last sync (keyed state in Redis)',
  configSchema: SyncTargetConfigSchema,
  createSink(config: SyncTargetConfig, ctx: ConnectorContext) {
    const connector = registry.getConnector(config.target.type);
    if (!connector?.createSink) {
      throw new SluiceError('SLUICE_UNKNOWN_TYPE', `sync target type '${config.target.type}' has no sink`, {
        issues: [{ path: 'rule.target', message: 'not a writable datasource type' }],
      });
    }
    const inner = connector.createSink(parseConnectorConfig(connector, config.target.config, 'sink', 'rule.target_config'), ctx);
    const redis = new Redis(config.redis_url, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    return new SyncSink(inner, {
      state: new KeyState(redis, config.rule_id, config.key_prefix),
      countersKey: config.counters_key,
      key: config.key,
      trackDeletes: config.track_deletes,
      operations: new Set(config.operations),
      onClose: async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    });
  },
});
