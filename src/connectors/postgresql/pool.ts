import type pg from 'pg';
import { ConnectionPool, type ConnectionDriver } from '../kit/client-pool.js';
import { ConnectionMetrics } from '../kit/connection-metrics.js';
import { closeQuietly, connect, postgresDatasource } from './client.js';
import type { PostgresConfig } from './config.js';

const pools = new Map<string, ConnectionPool<pg.Client>>();

/** How the kit's pool opens, resets and watches PostgreSQL connections of `config`. */
export function postgresDriver(config: PostgresConfig): ConnectionDriver<pg.Client> {
  return {
    open: () => connect(config),
    close: closeQuietly,
    reset: async (client) => {
      await client.query('rollback');
    },
    onLost: (client, lost) => client.once('end', lost),
    // pg's Client has ref/unref (its types do not say so).
    hold: (client, held) => {
      const socket = client as unknown as { ref(): void; unref(): void };
      if (held) socket.ref();
      else socket.unref();
    },
  };
}

/**
 * The process's read pool for the server, database and user of `config`, of `max_connections`
 * connections: reads of every source node share them. Connections that a read left mid-transaction are rolled back
 * before reuse.
 */
export function postgresPool(config: PostgresConfig): ConnectionPool<pg.Client> {
  const key = JSON.stringify([config.url, config.host, config.port, config.user, config.password, config.database, config.max_connections]);
  let pool = pools.get(key);
  if (!pool) {
    pool = new ConnectionPool(postgresDriver(config), new ConnectionMetrics(postgresDatasource(config)), config.max_connections);
    pools.set(key, pool);
  }
  return pool;
}
