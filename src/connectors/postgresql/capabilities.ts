import { parseConfig } from '../../core/config.js';
import { SluiceError } from '../../core/errors.js';
import type { ConnectorCapabilities } from '../../core/ports.js';
import { closeQuietly, connect } from './client.js';
import { postgresConfigSchema } from './config.js';

/** The push-down source a full sync of a PostgreSQL table reads with (see sync-hash-connector.ts). */
export const SYNC_HASH_SOURCE_TYPE = 'sync_postgresql';

/**
 * What the postgresql connector can do, and how pipeline steps and sync rules shape its config:
 * an extract step and a full sync read in `query` mode; a load step's mode is the sink's
 * `write_mode`, and a table is required.
 */
export const postgresqlCapabilities: ConnectorCapabilities = {
  capabilities: [
    'bounded_read',
    'incremental',
    'cdc',
    'upsert_sink',
    'changelog_apply',
    'atomic_replace',
    'sync_hash_push_down',
    'bidirectional_sync',
  ],
  extractConfig: (config) => ({ ...config, mode: 'query' }),
  async loadConfig({ options, step, at }, overlay) {
    const { table, path, key, create_table, mode } = step;
    const base = await overlay({
      ...options,
      ...(table ? { table } : {}),
      ...(path ? { path } : {}),
      ...(key ? { key } : {}),
      ...(create_table ? { create_table } : {}),
      write_mode: mode,
    });
    if (!base.table) {
      throw new SluiceError('SLUICE_CONFIG_INVALID', 'a load into postgresql needs table_name', {
        issues: [{ path: `${at}.table_name`, message: 'required for a postgresql target' }],
      });
    }
    const { mode: _sourceMode, query: _query, ...connection } = base;
    return connection;
  },
  syncSourceConfig(config, { mode, key, cursorColumn, slot }) {
    const read: Record<string, unknown> = { ...config, mode: mode === 'full' || mode === 'snapshot' ? 'query' : mode };
    if (key) read.key = key;
    if (mode === 'incremental') read.cursor_column = cursorColumn;
    if (mode === 'cdc') {
      read.slot ??= slot;
      read.publication ??= slot;
      if (read.table && !read.tables) read.tables = [read.table];
    }
    return read;
  },
  async releaseSyncSource(config, slot) {
    const client = await connect(parseConfig(postgresConfigSchema, config, 'rule.source_config'));
    try {
      await client.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1 and not active', [
        config.slot ?? slot,
      ]);
    } finally {
      await closeQuietly(client);
    }
  },
  // The server hashes the rows of a table; a query's rows are read and compared by Sluice.
  syncHashSource: (config) => (typeof config.table === 'string' && config.query === undefined ? SYNC_HASH_SOURCE_TYPE : undefined),
};
