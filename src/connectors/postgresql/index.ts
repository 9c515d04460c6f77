import { registry } from '../../core/registry.js';
import { postgresConfigSchema } from './config.js';
import { QuerySource } from './source.js';
import { CdcSource } from './cdc/cdc-source.js';
import { IncrementalSource } from './incremental.js';
import { PostgresSink } from './sink.js';
import { checkServer } from './client.js';
import { postgresqlCapabilities } from './capabilities.js';
import './sync-hash-connector.js';
import { postgresConfigRules } from './rules.js';

/** The `postgresql` connector: query, incremental and CDC sources; append/replace/upsert sink. */
export const postgresqlConnector = registry.connector({
  type: 'postgresql',
  description: 'PostgreSQL: query, incremental (watermark) and CDC (logical replication) sources; append, replace and upsert sink',
  configSchema: postgresConfigSchema,
  validate: postgresConfigRules,
  createSource: (config) =>
    config.mode === 'cdc' ? new CdcSource(config) : config.mode === 'incremental' ? new IncrementalSource(config) : new QuerySource(config),
  createSink: (config) => new PostgresSink(config),
  check: (config) => checkServer(config),
  unbounded: (config) => config.mode === 'cdc' || (config.mode === 'incremental' && config.poll_interval_ms !== undefined),
  ...postgresqlCapabilities,
});
