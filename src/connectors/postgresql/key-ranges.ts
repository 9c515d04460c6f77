import type pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import type { PostgresConfig } from './config.js';
import { closeQuietly, connect, ident, primaryKey, qualified } from './client.js';

/** The query of one key range: `select *` of the table between two keys. */
export interface RangeQuery {
  sql: string;
  params: string[];
}

/**
 * The key ranges of a parallel table read and the one snapshot all of them are read in. A
 * coordinating connection opens a repeatable-read transaction, exports its snapshot and computes
 * `count` equal ranges between the smallest and largest key in it, once, so rows committed while
 * the ranges are read neither move a boundary nor show up in a range. An exported snapshot lives
 * as long as its transaction: the coordinator stays open until every range has imported it.
 */
export class KeyRanges {
  private readonly pending: Set<number>;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly coordinator: pg.Client,
    /** Id of the exported snapshot, for SET TRANSACTION SNAPSHOT. */
    readonly snapshot: string,
    readonly key: string[],
    private readonly queries: RangeQuery[],
  ) {
    this.pending = new Set(queries.keys());
  }

  static async plan(config: PostgresConfig, table: string, count: number): Promise<KeyRanges> {
    const coordinator = await connect(config);
    try {
      await coordinator.query('begin isolation level repeatable read read only');
      const { rows } = await coordinator.query<{ snapshot: string }>('select pg_export_snapshot() as snapshot');
      const key = config.key ?? (await primaryKey(coordinator, table));
      if (key.length !== 1) throw new SluiceError('SLUICE_CONFIG_INVALID', `parallel read of ${table} needs a single-column integer key`);
      const queries = await rangeQueries(coordinator, table, key[0], count);
      return new KeyRanges(coordinator, rows[0].snapshot, key, queries);
    } catch (error) {
      await closeQuietly(coordinator);
      throw error;
    }
  }

  /** Starts the read of range `index` on `client`: a read-only transaction in the snapshot. */
  async begin(client: pg.Client, index: number): Promise<RangeQuery> {
    await client.query(`begin isolation level repeatable read read only; set transaction snapshot '${this.snapshot.replace(/'/g, "''")}'`);
    this.pending.delete(index);
    if (this.pending.size === 0) await this.close();
    return this.queries[index];
  }

  /** Ends the coordinating transaction (also when a range was never read). */
  close(): Promise<void> {
    this.closed ??= closeQuietly(this.coordinator);
    return this.closed;
  }
}

/** The queries of `count` equal ranges between the smallest and largest key. */
async function rangeQueries(client: pg.Client, table: string, key: string, count: number): Promise<RangeQuery[]> {
  const k = ident(key);
  const { rows } = await client.query<{ lo: string | null; hi: string | null }>(
    `select min(${k})::text as lo, max(${k})::text as hi from ${qualified(table)}`,
  );
  const base = `select * from ${qualified(table)}`;
  if (rows[0].lo === null) return Array.from({ length: count }, () => ({ sql: `${base} where false`, params: [] }));
  const lo = BigInt(rows[0].lo);
  const span = BigInt(rows[0].hi!) - lo + 1n;
  const bound = (i: number) => (lo + (span * BigInt(i)) / BigInt(count)).toString();
  return Array.from({ length: count }, (_, i) => ({
    sql: `${base} where ${k} >= $1::numeric and ${k} < $2::numeric`,
    params: [bound(i), bound(i + 1)],
  }));
}
