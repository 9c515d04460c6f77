import type pg from 'pg';
import type { PostgresConfig } from '../connectors/postgresql/config.js';
import { closeQuietly, connect, ident, qualified } from '../connectors/postgresql/client.js';
import { TEXT_TYPES } from '../connectors/postgresql/source.js';
import { SluiceError } from '../core/errors.js';
import { keyString, keyValues, rowHash } from '../core/row-hash.js';

/** A row as text values in the canonical column order (key columns first), or null when absent. */
export type RowValues = (string | null)[];

/** A guarded write: applied only if the row's hash is still `expect` (undefined = still absent). */
export interface GuardedChange {
  key: string;
  values: RowValues | null;
  expect: string | undefined;
}

export interface AppliedChange {
  key: string;
  /** What was done; `=` when the row already held the values. */
  op: 'c' | 'u' | 'd' | '=';
  /** Hash of the row now at this side (undefined after a delete). */
  hash: string | undefined;
}

/** Called with a write's transaction id and changes, before it commits. */
export type BeforeCommit = (transaction: string, applied: AppliedChange[]) => Promise<void>;

/** Rows per statement when fetching or applying by key. */
const CHUNK = 2000;

/**
 * One PostgreSQL table taking part in a bidirectional sync. Columns are addressed by canonical
 * (target) names; `columns` maps them to this side's names. Every value travels as PostgreSQL
 * text, so both sides hash a row the same way when their column types agree.
 */
export class PgSide {
  private client: pg.Client | undefined;
  private types = new Map<string, string>();

  /**
   * @param canonical canonical column names, key columns first
   * @param columns this side's name of each canonical column
   */
  constructor(
    private readonly config: PostgresConfig,
    readonly table: string,
    readonly canonical: string[],
    readonly columns: string[],
    readonly keyCount: number,
  ) {}

  /** Connects and checks that every column exists here. */
  async open(): Promise<void> {
    this.client = await connect(this.config);
    const { rows } = await this.client.query<{ attname: string; type: string }>(
      'select attname, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped',
      [qualified(this.table)],
    );
    this.types = new Map(rows.map((r) => [r.attname, r.type]));
    const missing = this.columns.filter((c) => !this.types.has(c));
    if (missing.length > 0)
      throw new SluiceError('SLUICE_CONFIG_INVALID', `table ${this.table} has no column ${missing.join(', ')}`, {
        issues: [{ path: 'rule.field_mapping', message: `missing in ${this.table}: ${missing.join(', ')}` }],
      });
  }

  async close(): Promise<void> {
    await closeQuietly(this.client);
  }

  /** Hash of the non-key values of a row. */
  hash(values: RowValues): string {
    return rowHash(values.slice(this.keyCount));
  }

  key(values: RowValues): string {
    return keyString(values.slice(0, this.keyCount));
  }

  /** Every row's key and hash, read in one repeatable-read snapshot through a cursor. */
  async scan(onPage: (page: Array<[string, string]>) => void): Promise<number> {
    const client = this.client!;
    let count = 0;
    await client.query('begin isolation level repeatable read read only');
    try {
      await client.query(
        `declare sluice_side no scroll cursor for select ${this.columns.map(ident).join(', ')} from ${qualified(this.table)}`,
      );
      for (;;) {
        const { rows } = await client.query<RowValues>({ text: 'fetch 10000 from sluice_side', rowMode: 'array', types: TEXT_TYPES });
        if (rows.length === 0) break;
        count += rows.length;
        onPage(rows.map((r) => [this.key(r), this.hash(r)]));
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    return count;
  }

  /** Current rows of some keys (absent keys are missing from the map). */
  async fetch(keys: string[], forUpdate = false): Promise<Map<string, RowValues>> {
    const found = new Map<string, RowValues>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK).map(keyValues);
      const { rows } = await this.client!.query<RowValues>({
        text: `select ${this.columns.map((c) => `t.${ident(c)}`).join(', ')} from ${qualified(this.table)} t where (${this.keyColumns('t')}) in (${this.unnest(this.columns.slice(0, this.keyCount), 1)})${forUpdate ? ' for update of t' : ''}`,
        values: this.columnArrays(chunk, this.keyCount),
        rowMode: 'array',
        types: TEXT_TYPES,
      });
      for (const row of rows) found.set(this.key(row), row);
    }
    return found;
  }

  /**
   * Applies changes in one transaction per chunk, each only if the row still has the hash the
   * plan saw (compare-and-set under row locks): a row changed meanwhile is left for the next run,
   * never overwritten. Inserts of rows expected absent never replace a concurrent insert.
   * `beforeCommit` gets each chunk's transaction id and changes once they are written, before the
   * commit (see `transactionStatus`).
   */
  async apply(changes: GuardedChange[], beforeCommit?: BeforeCommit): Promise<AppliedChange[]> {
    const applied: AppliedChange[] = [];
    for (let i = 0; i < changes.length; i += CHUNK) applied.push(...(await this.applyChunk(changes.slice(i, i + CHUNK), beforeCommit)));
    return applied;
  }

  /** Whether a transaction of this database committed; undefined once too old to tell. */
  async transactionStatus(transaction: string): Promise<'committed' | 'aborted' | 'in progress' | undefined> {
    const { rows } = await this.client!.query<{ status: 'committed' | 'aborted' | 'in progress' | null }>(
      'select pg_xact_status($1::xid8) as status',
      [transaction],
    );
    return rows[0].status ?? undefined;
  }

  private async applyChunk(changes: GuardedChange[], beforeCommit: BeforeCommit | undefined): Promise<AppliedChange[]> {
    const client = this.client!;
    await client.query('begin');
    try {
      const current = await this.fetch(
        changes.map((c) => c.key),
        true,
      );
      const deletes: RowValues[] = [];
      const inserts: RowValues[] = [];
      const updates: RowValues[] = [];
      const applied: AppliedChange[] = [];
      for (const change of changes) {
        const row = current.get(change.key);
        const hash = row ? this.hash(row) : undefined;
        if (hash !== change.expect) continue;
        if (change.values === null) {
          deletes.push(keyValues(change.key));
          applied.push({ key: change.key, op: row ? 'd' : '=', hash: undefined });
        } else if (!row) {
          inserts.push(change.values);
        } else if (this.hash(change.values) !== hash) {
          updates.push(change.values);
          applied.push({ key: change.key, op: 'u', hash: this.hash(change.values) });
        } else {
          applied.push({ key: change.key, op: '=', hash });
        }
      }
      const keyCols = this.columns.slice(0, this.keyCount);
      const match = keyCols.map((k) => `t.${ident(k)} = s.${ident(k)}`).join(' and ');
      if (deletes.length > 0) {
        await client.query({
          text: `delete from ${qualified(this.table)} t using (${this.unnest(keyCols, 1)}) s where ${match}`,
          values: this.columnArrays(deletes, this.keyCount),
        });
      }
      if (updates.length > 0) {
        const set = this.columns
          .slice(this.keyCount)
          .map((c) => `${ident(c)} = s.${ident(c)}`)
          .join(', ');
        await client.query({
          text: `update ${qualified(this.table)} t set ${set} from (${this.unnest(this.columns, 1)}) s where ${match}`,
          values: this.columnArrays(updates, this.columns.length),
        });
      }
      if (inserts.length > 0) {
        const { rows } = await client.query<RowValues>({
          text: `insert into ${qualified(this.table)} (${this.columns.map(ident).join(', ')}) ${this.unnest(this.columns, 1)} on conflict do nothing returning ${keyCols.map(ident).join(', ')}`,
          values: this.columnArrays(inserts, this.columns.length),
          rowMode: 'array',
          types: TEXT_TYPES,
        });
        const inserted = new Set(rows.map((r) => keyString(r)));
        for (const values of inserts) {
          const key = this.key(values);
          if (inserted.has(key)) applied.push({ key, op: 'c', hash: this.hash(values) });
        }
      }
      if (beforeCommit && applied.length > 0) {
        const { rows } = await client.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
        await beforeCommit(rows[0].xid, applied);
      }
      await client.query('commit');
      return applied;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      // A failure of `beforeCommit` (the sync state) keeps its own code.
      if (error instanceof SluiceError) throw error;
      throw new SluiceError('SLUICE_SINK_FAILED', `sync ${this.table}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Canonical-named object of a row, for conflicts and custom resolvers. */
  toObject(values: RowValues): Record<string, string | null> {
    return Object.fromEntries(this.canonical.map((c, i) => [c, values[i]]));
  }

  fromObject(row: Record<string, unknown>): RowValues {
    return this.canonical.map((c) => (row[c] === null || row[c] === undefined ? null : String(row[c])));
  }

  private keyColumns(alias: string): string {
    return this.columns
      .slice(0, this.keyCount)
      .map((k) => `${alias}.${ident(k)}`)
      .join(', ');
  }

  /** `select $1::text[]` columns cast to their types: text travels through each type's input function. */
  private unnest(columns: string[], first: number): string {
    const arrays = columns.map((_, i) => `$${first + i}::text[]`).join(', ');
    const names = columns.map((_, i) => `c${i}`);
    return `select ${columns.map((c, i) => `${names[i]}::${this.types.get(c)} as ${ident(c)}`).join(', ')} from unnest(${arrays}) as u(${names.join(', ')})`;
  }

  private columnArrays(rows: RowValues[], width: number): (string | null)[][] {
    return Array.from({ length: width }, (_, c) => rows.map((r) => r[c]));
  }
}
