import pg from 'pg';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { pino } from 'pino';
import type { Batch } from '../../../src/core/batch.js';
import type { ReadContext, Source } from '../../../src/core/ports.js';
import { parseConfig } from '../../../src/core/config.js';
import { postgresConfigSchema, type PostgresConfig } from '../../../src/connectors/postgresql/config.js';

export const PGURL = process.env.PGURL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const silent = pino({ level: 'silent' });

/** Creates a fresh database; fails (never skips) when PostgreSQL is not reachable. */
export async function createDatabase(prefix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PGURL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PGURL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const a = new pg.Client({ connectionString: PGURL });
      await a.connect();
      // A test that failed may have left a pipeline streaming: end its walsender first.
      await a.query('select pg_terminate_backend(active_pid) from pg_replication_slots where database = $1 and active', [name]);
      for (let i = 0; i < 50; i++) {
        const { rows } = await a.query('select count(*)::int as n from pg_replication_slots where database = $1 and active', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await a.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1', [name]);
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** Runs SQL on a database. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export function config(values: Partial<PostgresConfig> & Record<string, unknown>): PostgresConfig {
  return parseConfig(postgresConfigSchema, values);
}

export function readContext(signal = new AbortController().signal, batchSize = 1000): ReadContext {
  return { flow: { acquire: async () => undefined }, signal, logger: silent, batchSize };
}

/** All batches of a bounded source partition. */
export async function readAll(source: Source, partition: string, from?: never): Promise<Batch[]> {
  return lastValueFrom(source.read(partition, from, readContext()).pipe(toArray()));
}

export { firstValueFrom };
