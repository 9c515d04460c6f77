import { Observable } from 'rxjs';
import type pg from 'pg';
import { Field, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import type { Batch, Position } from '../../core/batch.js';
import { SluiceError } from '../../core/errors.js';
import type { ReadContext, Source } from '../../core/ports.js';
import type { PostgresConfig } from './config.js';
import { ident, primaryKey, qualified } from './client.js';
import { readWithClient } from './client-read.js';
import { TEXT_TYPES, fieldsOf, readCursor } from './source.js';
import { ROW_HASH_COLUMN, keyMetadata } from '../../core/changelog.js';
import { rowsToColumns, textBatch } from './text-batch.js';
import { TypeResolver } from './types.js';
import { recordBatchOf } from '../../transforms/arrow-ops.js';
import { deleteBatch } from '../kit/delete-batch.js';
import type { KeyState } from '../../state/key-state.js';
import { keyString } from '../../core/row-hash.js';
import { KeyHashSet } from '../../state/key-hash-set.js';

/** Keys (with hashes) compared per page. */
const HASH_PAGE = 50_000;

export interface SyncHashSourceOptions {
  state: KeyState;
  countersKey: string;
  onClose?: () => Promise<void>;
}

/**
 * Full sync of a PostgreSQL table with the change detection pushed down: the server hashes every
 * row (a 64-bit hash of the row's text), Sluice reads only keys and hashes, compares them with the keyed
 * state, and fetches whole rows only for keys that are new or changed, all in one repeatable-read
 * snapshot. Keys in the state the scan did not meet are emitted as deletes at the end. When the
 * state is empty every row is new, and the table is read whole in one pass.
 *
 * Its batches carry the row hash (ROW_HASH_COLUMN) and its counters go straight to the run.
 */
export class SyncHashSource implements Source {
  private readonly table: string;

  /** `config.table` is set: the definition's validate refuses a config without one. */
  constructor(
    private readonly config: PostgresConfig,
    private readonly options: SyncHashSourceOptions,
  ) {
    this.table = config.table!;
  }

  async partitions(): Promise<string[]> {
    return [this.table];
  }

  read(partition: string, _from: Position | undefined, ctx: ReadContext): Observable<Batch> {
    return readWithClient(this.config, ctx, async ({ client, signal, emit: emitBatch }) => {
      const emit = (data: Batch['data']) =>
        emitBatch({ data, meta: { stream: this.table, partition, position: undefined, kind: 'changelog' } });
      await client.query('begin isolation level repeatable read read only');
      const key = this.config.key ?? (await primaryKey(client, this.table));
      if (key.length === 0)
        throw new SluiceError('SLUICE_CONFIG_INVALID', `table ${this.table} has no primary key: set filters.primary_key`);
      const types = await columnTypes(client, this.table);
      const missing = key.filter((k) => !types.has(k));
      if (missing.length > 0) throw new SluiceError('SLUICE_CONFIG_INVALID', `table ${this.table} has no column ${missing.join(', ')}`);
      const compared = [...types.keys()].filter((c) => !key.includes(c)).sort();
      // 64 bits of PostgreSQL's own string hash: cheaper to compute and to ship than md5.
      const hash = `hashtextextended(row(${compared.map((c) => `t.${ident(c)}`).join(', ')})::text, 0)::text as ${ident(ROW_HASH_COLUMN)}`;
      const metadata = keyMetadata(key);
      const batchSize = this.config.batch_size ?? ctx.batchSize;
      const count = (values: Record<string, number>) => this.options.state.apply([], [], { key: this.options.countersKey, values });

      const held = await this.options.state.count();
      if (held === 0) {
        await readCursor(client, `select t.*, ${hash} from ${qualified(this.table)} t`, [], batchSize, signal, async (fields, columns) => {
          await count({ read: columns[0].length });
          await emit(textBatch(fields, columns, metadata));
        });
      } else {
        const seen = new KeyHashSet();
        let known = 0;
        const resolver = new TypeResolver(client);
        const keyList = key.map((k) => `t.${ident(k)}`).join(', ');
        const unnest = `select ${key.map((k, i) => `c${i}::${types.get(k)}`).join(', ')} from unnest(${key.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as u(${key.map((_, i) => `c${i}`).join(', ')})`;
        await client.query(`declare sluice_hashes no scroll cursor for select ${keyList}, ${hash} from ${qualified(this.table)} t`);
        while (!signal.aborted) {
          // Keys and hashes are small: large pages keep round trips and target transactions few.
          const { rows } = await client.query<(string | null)[]>({
            text: `fetch ${Math.max(batchSize, HASH_PAGE)} from sluice_hashes`,
            rowMode: 'array',
            types: TEXT_TYPES,
          });
          if (rows.length === 0) break;
          const keys = rows.map((r) => keyString(r.slice(0, key.length)));
          for (const k of keys) seen.add(k);
          const entries = await this.options.state.getMany(keys);
          for (const entry of entries) if (entry) known++;
          const changed = rows.filter((r, i) => entries[i]?.hash !== r[key.length]);
          await count({ read: rows.length, unchanged: rows.length - changed.length });
          if (changed.length === 0) continue;
          const result = await client.query<(string | null)[]>({
            text: `select t.*, ${hash} from ${qualified(this.table)} t where (${keyList}) in (${unnest})`,
            values: key.map((_, c) => changed.map((r) => r[c])),
            rowMode: 'array',
            types: TEXT_TYPES,
          });
          const fields = await fieldsOf(resolver, result);
          await emit(textBatch(fields, rowsToColumns(result.rows, fields.length), metadata));
        }
        await client.query('close sluice_hashes');
        // Every key the state held at the start was met again: nothing was deleted.
        const deletions = known < held && !signal.aborted ? this.options.state.entries() : [];
        for await (const page of deletions) {
          if (signal.aborted) break;
          const gone = page.map(([k]) => k).filter((k) => !seen.has(k));
          if (gone.length > 0) await emit(withNullHash(deleteBatch(key, gone, compared)));
        }
      }
      await client.query('commit');
    });
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {
    await this.options.onClose?.();
  }
}

/** Marks a delete batch as this source's own (its rows are counted here, not by the sink). */
function withNullHash(data: Batch['data']): Batch['data'] {
  const fields = [...data.schema.fields, new Field(ROW_HASH_COLUMN, new Utf8(), true)];
  const columns = [
    ...data.schema.fields.map((_, i) => data.getChildAt(i)!),
    vectorFromArray(new Array<string | null>(data.numRows).fill(null), new Utf8()),
  ];
  return recordBatchOf(new Schema(fields, data.schema.metadata), columns, data.numRows);
}

/** Column name → `format_type`, in table order. */
async function columnTypes(client: pg.Client, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ attname: string; type: string }>(
    'select attname, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum',
    [qualified(table)],
  );
  return new Map(rows.map((r) => [r.attname, r.type]));
}
