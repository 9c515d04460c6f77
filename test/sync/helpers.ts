import { Redis } from 'ioredis';
import { pino } from 'pino';
import { SyncEngine } from '../../src/sync/sync-engine.js';
import type { DatasourceResolver } from '../../src/sync/compile-rule.js';

export { createDatabase, sql, PGURL } from '../connectors/postgresql/pg-helpers.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const silent = pino({ level: 'silent' });

/** A Redis key prefix of its own per test file, removed by `dropRedisPrefix`. */
export function uniquePrefix(name: string): string {
  return `sluice:test:${name}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;
}

export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A resolver over a fixed map of datasources, as the control plane would give. */
export function datasources(map: Record<string, { type: string; config: Record<string, unknown> }>): DatasourceResolver {
  return async (name) => {
    const found = map[name];
    if (!found) throw new Error(`no datasource ${name}`);
    return found;
  };
}

export function engineFor(prefix: string, resolve: DatasourceResolver): SyncEngine {
  return new SyncEngine({ resolve, redisUrl: REDIS_URL, keyPrefix: prefix, logger: silent });
}

/** Adds a `write_log` table counting every row written to `table` (insert, update, delete). */
export async function countWrites(url: string, table: string): Promise<void> {
  const { sql } = await import('../connectors/postgresql/pg-helpers.js');
  await sql(url, `create table if not exists write_log (tbl text, op text, id text)`);
  await sql(
    url,
    `create or replace function log_write() returns trigger language plpgsql as $$
    begin
      insert into write_log values (TG_TABLE_NAME, TG_OP, case when TG_OP = 'DELETE' then old.id::text else new.id::text end);
      return null;
    end $$`,
  );
  await sql(url, `create trigger ${table}_log after insert or update or delete on ${table} for each row execute function log_write()`);
}
