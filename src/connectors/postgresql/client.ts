import pg from 'pg';
import type { Socket } from 'node:net';
import { SluiceError } from '../../core/errors.js';
import { ConnectionMetrics, type Datasource } from '../kit/connection-metrics.js';
import { Resilience } from '../kit/resilience.js';
import type { PostgresConfig } from './config.js';

/** Session settings every connection uses, so text values have one form (ISO dates, UTC). */
const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3 -c IntervalStyle=postgres';

/** The server and database a config connects to, without credentials: `host:port/database`. */
export function postgresDatasource(config: PostgresConfig): Datasource {
  let name = `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
  if (config.url) {
    try {
      const url = new URL(config.url);
      name = `${url.hostname || 'localhost'}:${url.port || 5432}${url.pathname}`;
    } catch {
      name = 'unparsed-url';
    }
  }
  return { connector: 'postgresql', name };
}

/**
 * Opens a connection; `replication` opens a logical replication (walsender) connection, and
 * `settings` are session settings on top of the common ones (e.g. `lock_timeout`). Attempts are
 * retried under the config's `resilience` through the datasource's circuit breaker, and counted
 * in its connection metrics (connect time, failures, open connections, bytes).
 */
export async function connect(
  config: PostgresConfig,
  options: { replication?: boolean; settings?: Record<string, number> } = {},
): Promise<pg.Client> {
  const datasource = postgresDatasource(config);
  const metrics = new ConnectionMetrics(datasource);
  const client = await new Resilience(datasource, config.resilience).connect(() => metrics.connect(() => open(config, options)));
  const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
  client.once(
    'end',
    metrics.opened(() => ({ read: socket.bytesRead, written: socket.bytesWritten })),
  );
  return client;
}

async function open(config: PostgresConfig, options: { replication?: boolean; settings?: Record<string, number> }): Promise<pg.Client> {
  const settings = Object.entries(options.settings ?? {})
    .map(([name, value]) => ` -c ${name}=${value}`)
    .join('');
  const client = new pg.Client({
    connectionString: config.url,
    host: config.url ? undefined : config.host,
    port: config.url ? undefined : config.port,
    user: config.url ? undefined : config.user,
    password: config.url ? undefined : config.password,
    database: config.url ? undefined : config.database,
    options: SESSION_OPTIONS + settings,
    ...(options.replication ? { replication: 'database' } : {}),
  } as pg.ClientConfig);
  // An error on an idle connection must not crash the process; the next query reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new SluiceError('SLUICE_CONNECTION_FAILED', `cannot connect to PostgreSQL: ${(error as Error).message}`, {
      cause: error,
      retriable: !refusedForGood(error),
    });
  }
  return client;
}

/**
 * SQLSTATE classes of a connection the server refused for a reason a retry cannot change: bad
 * credentials or authorization (28) and a database that does not exist (3D).
 */
const REFUSED_FOR_GOOD = ['28', '3D'];

function refusedForGood(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && REFUSED_FOR_GOOD.includes(code.slice(0, 2));
}

/** Quotes an identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` or `table` → its schema and name (schema defaults to public). */
export function splitTable(table: string): { schema: string; name: string } {
  const dot = table.indexOf('.');
  return dot < 0 ? { schema: 'public', name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

/** The quoted, schema-qualified name of a table. */
export function qualified(table: string): string {
  const { schema, name } = splitTable(table);
  return `${ident(schema)}.${ident(name)}`;
}

/** Primary key columns of a table, in key order (empty when it has none). */
export async function primaryKey(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    `select a.attname from pg_index i
       join lateral unnest(i.indkey) with ordinality k(attnum, ord) on true
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1::regclass and i.indisprimary order by k.ord`,
    [qualified(table)],
  );
  return rows.map((r) => r.attname);
}

/** Closes a connection, ignoring errors of one already broken. */
export async function closeQuietly(client: pg.Client | undefined): Promise<void> {
  await client?.end().catch(() => undefined);
}

/** Connects and, for CDC, checks that the server can decode logically; throws a SluiceError if not. */
export async function checkServer(config: PostgresConfig): Promise<void> {
  const client = await connect(config);
  try {
    const { rows } = await client.query<{ wal_level: string }>('show wal_level');
    if (config.mode === 'cdc' && rows[0].wal_level !== 'logical') {
      throw new SluiceError(
        'SLUICE_CONNECTION_FAILED',
        `PostgreSQL has wal_level=${rows[0].wal_level}: CDC needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart)`,
        { retriable: false },
      );
    }
  } finally {
    await closeQuietly(client);
  }
}
