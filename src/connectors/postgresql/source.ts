import { Observable } from 'rxjs';
import type pg from 'pg';
import type { Field } from 'apache-arrow';
import type { Batch, Position } from '../../core/batch.js';
import type { ReadContext, Source } from '../../core/ports.js';
import type { PostgresConfig } from './config.js';
import { primaryKey, qualified } from './client.js';
import { KeyRanges } from './key-ranges.js';
import { readWithClient } from './client-read.js';
import { TypeResolver, arrowFieldOf } from './types.js';
import { keyMetadata } from '../../core/changelog.js';
import { rowsToColumns, textBatch } from './text-batch.js';

/** Every value as PostgreSQL prints it: the type mapping parses text itself, exactly. */
export const TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/** The Arrow fields of a result set, resolved through the catalog once. */
export async function fieldsOf(resolver: TypeResolver, result: pg.QueryResult): Promise<Field[]> {
  const types = await resolver.resolve(result.fields.map((f) => f.dataTypeID));
  return result.fields.map((f, i) => arrowFieldOf(f.name, types[i]));
}

/**
 * Runs a query through a server-side cursor inside a read-only repeatable-read transaction and
 * calls `emit` with each batch of text rows. Stops early when `signal` aborts.
 */
export async function readCursor(
  client: pg.Client,
  sql: string,
  params: unknown[],
  batchSize: number,
  signal: AbortSignal,
  emit: (fields: Field[], columns: (string | null)[][]) => Promise<void>,
): Promise<void> {
  const resolver = new TypeResolver(client);
  await client.query('declare sluice_cursor no scroll cursor for ' + sql, params);
  let fields: Field[] | undefined;
  while (!signal.aborted) {
    const result = await client.query({ text: `fetch ${batchSize} from sluice_cursor`, rowMode: 'array', types: TEXT_TYPES });
    fields ??= await fieldsOf(resolver, result);
    if (result.rows.length === 0) break;
    await emit(fields, rowsToColumns(result.rows as (string | null)[][], fields.length));
    if (result.rows.length < batchSize) break;
  }
  await client.query('close sluice_cursor');
}

/**
 * The bounded query source: a table or a parameterized query, streamed with a server-side
 * cursor into Arrow batches. Not resumable mid-read (its batches carry no position): a resumed
 * run reads it again, whole. A table with a single integer primary key can be read as
 * `parallelism` key ranges, one partition each, all in one snapshot (see KeyRanges).
 */
export class QuerySource implements Source {
  private ranges: Promise<KeyRanges> | undefined;
  private readonly reads = new Set<AbortController>();

  constructor(private readonly config: PostgresConfig) {}

  async partitions(): Promise<string[]> {
    const n = this.config.parallelism;
    if (n <= 1 || !this.config.table || this.config.query) return [this.config.table ?? 'query'];
    return Array.from({ length: n }, (_, i) => `${this.config.table}#${i}/${n}`);
  }

  read(partition: string, _from: Position | undefined, ctx: ReadContext): Observable<Batch> {
    const range = /#(\d+)\/\d+$/.exec(partition);
    return readWithClient(
      this.config,
      ctx,
      async ({ client, signal, emit }) => {
        const { key, sql, params } = range ? await this.beginRange(client, Number(range[1])) : await this.beginWhole(client);
        const metadata = key.length > 0 ? keyMetadata(key) : undefined;
        const stream = this.config.table ?? partition;
        await readCursor(client, sql, params, this.config.batch_size ?? ctx.batchSize, signal, (fields, columns) =>
          emit({ data: textBatch(fields, columns, metadata), meta: { stream, partition, position: undefined, kind: 'records' } }),
        );
        await client.query('commit');
      },
      this.reads,
    );
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {
    for (const stop of this.reads) stop.abort();
    await (await this.ranges?.catch(() => undefined))?.close();
  }

  /** Opens the read of the whole table or query in a snapshot of its own. */
  private async beginWhole(client: pg.Client): Promise<{ key: string[]; sql: string; params: unknown[] }> {
    await client.query('begin isolation level repeatable read read only');
    const key = this.config.key ?? (this.config.table ? await primaryKey(client, this.config.table) : []);
    return { key, sql: this.config.query ?? `select * from ${qualified(this.config.table!)}`, params: this.config.params ?? [] };
  }

  /** Opens the read of key range `index` in the snapshot shared by every range of this read. */
  private async beginRange(client: pg.Client, index: number): Promise<{ key: string[]; sql: string; params: unknown[] }> {
    this.ranges ??= KeyRanges.plan(this.config, this.config.table!, this.config.parallelism);
    const ranges = await this.ranges;
    return { key: ranges.key, ...(await ranges.begin(client, index)) };
  }
}
