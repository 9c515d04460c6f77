import { Observable } from 'rxjs';
import type pg from 'pg';
import type { Batch, Position } from '../../core/batch.js';
import type { ReadContext, Source } from '../../core/ports.js';
import { SluiceError } from '../../core/errors.js';
import type { PostgresConfig } from './config.js';
import { ident, primaryKey, qualified } from './client.js';
import { readWithClient } from './client-read.js';
import { TypeResolver } from './types.js';
import { keyMetadata } from '../../core/changelog.js';
import { rowsToColumns, textBatch } from './text-batch.js';
import { TEXT_TYPES, fieldsOf } from './source.js';
import { sleep } from '../kit/sleep.js';

/** Watermark of an incremental read: the cursor value and key of the last row emitted, as text. */
export type IncrementalPosition = { cursor: string; key: string[] };

/**
 * Incremental sync: rows ordered by (cursor column, key) read after the last position, one
 * keyset page per batch, so rows sharing a cursor value are neither lost nor repeated across
 * batches and restarts. Rows whose cursor column is NULL are never read; rows committed later
 * with a cursor value below the watermark are missed (use CDC where that can happen).
 */
export class IncrementalSource implements Source {
  private readonly table: string;
  private readonly cursorColumn: string;
  private readonly reads = new Set<AbortController>();

  constructor(private readonly config: PostgresConfig) {
    this.table = config.table!;
    this.cursorColumn = config.cursor_column!;
  }

  async partitions(): Promise<string[]> {
    return [this.table];
  }

  read(partition: string, from: Position | undefined, ctx: ReadContext): Observable<Batch> {
    return readWithClient(
      this.config,
      ctx,
      async ({ client, signal, emit }) => {
        const key = this.config.key ?? (await primaryKey(client, this.table));
        if (key.length === 0) throw new SluiceError('SLUICE_CONFIG_INVALID', `table ${this.table} has no primary key: set \`key\``);
        const columns = [this.cursorColumn, ...key];
        const types = await columnTypes(client, this.table, columns);
        const order = columns.map(ident).join(', ');
        const after = `(${order}) > (${types.map((t, i) => `$${i + 1}::${t}`).join(', ')})`;
        const limit = this.config.batch_size ?? ctx.batchSize;
        const metadata = keyMetadata(key);
        const resolver = new TypeResolver(client);
        let position = from as unknown as IncrementalPosition | undefined;
        while (!signal.aborted) {
          const where = position ? `where ${after}` : `where ${ident(this.cursorColumn)} is not null`;
          const params = position ? [position.cursor, ...position.key] : [];
          const result = await client.query({
            text: `select * from ${qualified(this.table)} ${where} order by ${order} limit ${limit}`,
            values: params,
            rowMode: 'array',
            types: TEXT_TYPES,
          });
          if (result.rows.length === 0) {
            if (this.config.poll_interval_ms === undefined) break;
            await sleep(this.config.poll_interval_ms, signal);
            continue;
          }
          const fields = await fieldsOf(resolver, result);
          const data = rowsToColumns(result.rows as (string | null)[][], fields.length);
          const at = columns.map((c) => fields.findIndex((f) => f.name === c));
          const last = result.rows.length - 1;
          position = { cursor: data[at[0]][last]!, key: at.slice(1).map((i) => data[i][last]!) };
          await emit({ data: textBatch(fields, data, metadata), meta: { stream: partition, partition, position, kind: 'records' } });
        }
      },
      this.reads,
    );
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {
    for (const stop of this.reads) stop.abort();
  }
}

/** `format_type` of each column, to cast watermark parameters exactly. */
async function columnTypes(client: pg.Client, table: string, columns: string[]): Promise<string[]> {
  const { rows } = await client.query<{ attname: string; type: string }>(
    'select attname, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped',
    [qualified(table)],
  );
  const byName = new Map(rows.map((r) => [r.attname, r.type]));
  return columns.map((c) => {
    const type = byName.get(c);
    if (!type) throw new SluiceError('SLUICE_CONFIG_INVALID', `table ${table} has no column ${c}`);
    return type;
  });
}
