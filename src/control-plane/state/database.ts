import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { SluiceError } from '../../core/errors.js';

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** The few operations the state repositories need; PGlite and PostgreSQL both provide them. */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgresql';
  /** Runs several statements (migrations) in one transaction. */
  transaction(statements: string[]): Promise<void>;
  /** Runs `work` in one transaction, committed when it resolves and rolled back when it throws. */
  withTransaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; without one the embedded PGlite database is used. */
  url?: string;
  /** PGlite data directory; in memory when omitted. */
  dataDir?: string;
}

/** Opens the state database: PostgreSQL when a URL is given, otherwise embedded PGlite. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = new PGlite(dataDir);
  await db.waitReady;
  return {
    kind: 'pglite',
    query: async <T>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows,
    transaction: async (statements) => {
      await db.transaction(async (tx) => {
        for (const statement of statements) await tx.exec(statement);
      });
    },
    withTransaction: (work) =>
      db.transaction(async (tx) =>
        work({ query: async <T>(sql: string, params: unknown[] = []) => (await tx.query<T>(sql, params)).rows }),
      ),
    ping: async () => void (await db.query('select 1')),
    close: () => db.close(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  pool.on('error', () => undefined); // an idle client lost its server; the next query reports it
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end();
    throw new SluiceError('SLUICE_SERVICE_MISSING', `state database unreachable: ${(error as Error).message}`, { cause: error });
  }
  return {
    kind: 'postgresql',
    query: async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[],
    transaction: (statements) =>
      withClientTransaction(pool, async (client) => {
        for (const statement of statements) await client.query(statement);
      }),
    withTransaction: (work) =>
      withClientTransaction(pool, (client) =>
        work({ query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[] }),
      ),
    ping: async () => void (await pool.query('select 1')),
    close: () => pool.end(),
  };
}

async function withClientTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
