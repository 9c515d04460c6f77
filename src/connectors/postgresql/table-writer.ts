import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Field, RecordBatch } from 'apache-arrow';
import type { Batch } from '../../core/batch.js';
import type { SinkOpenContext } from '../../core/ports.js';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { PostgresConfig } from './config.js';
import { ident, primaryKey, qualified, splitTable } from './client.js';
import { copyEscape, textFormatter, type TextFormatter } from './pg-text.js';
import { pgTypeOfField } from './types.js';
import { OP_COLUMN, Op, UNCHANGED_COLUMN, dataFields, isReservedColumn, keyColumnsOf } from '../../core/changelog.js';
import { foldChanges, type FoldedChange } from './changelog-fold.js';
import { ReplaceStaging } from './replace-staging.js';

let writers = 0;
/** SQLSTATEs of a lock_timeout, and of a statement cancelled (by statement_timeout or a cancel request). */
const LOCK_NOT_AVAILABLE = '55P03';
const QUERY_CANCELED = '57014';

/**
 * Writes batches to one table. `append` copies rows in; `upsert` merges them by key (COPY into a
 * temporary table, then INSERT ... ON CONFLICT); `replace` loads a staging table of its run (see
 * ReplaceStaging) and swaps its rows into the target in one transaction at `finish()`, so a
 * failed run leaves the target as it was. Changelog batches (`__op` c/u/r/d) always apply by
 * key, so replaying a batch changes nothing; a `t` row (TRUNCATE at the source) empties the
 * table first, in the same transaction. The connection belongs to the sink that routes to this
 * writer.
 */
export class TableWriter {
  private columns: Set<string> | undefined;
  private key: string[] | undefined;
  private resuming = false;
  private resumeKey: string | undefined;
  private logger: Logger | undefined;
  private replaceStaging: ReplaceStaging | undefined;
  private skipLogged = false;
  /** Name of this writer's staging temp table, and the target and columns it was made for. */
  private readonly stageName = ident(`sluice_merge_${++writers}`);
  private staged: string | undefined;

  constructor(
    private readonly config: PostgresConfig,
    private readonly table: string,
    private readonly connection: () => Promise<pg.Client>,
  ) {}

  open(ctx: Pick<SinkOpenContext, 'resuming' | 'resumeKey' | 'logger'>): void {
    this.resuming = ctx.resuming;
    this.resumeKey = ctx.resumeKey;
    this.logger = ctx.logger;
  }

  async write(batch: Batch): Promise<void> {
    if (batch.data.numRows === 0) return;
    const client = await this.connection();
    try {
      if (await this.alreadyPublished(client)) return;
      const truncateAt = batch.meta.kind === 'changelog' ? lastTruncate(batch.data) : -1;
      // Rows before the last TRUNCATE are gone anyway: only the ones after it are applied.
      const data = truncateAt < 0 ? batch.data : batch.data.slice(truncateAt + 1);
      await this.prepareTable(client, batch.data);
      const target = this.config.write_mode === 'replace' ? await this.staging().ensure(client) : qualified(this.table);
      const columns = data.schema.fields.map((f) => f.name).filter((name) => !isReservedColumn(name) && this.columns!.has(name));
      if (batch.meta.kind === 'changelog' || this.config.write_mode === 'upsert') {
        await this.merge(client, target, data, columns, this.keyOf(data), truncateAt >= 0);
      } else {
        const formatters = columns.map((c) => textFormatter(data.getChild(c)!));
        await copyRows(client, target, columns, formatters, rangeOf(data.numRows));
      }
    } catch (error) {
      throw sinkError(error, this.table, this.config);
    }
  }

  /** Publishes a replace: the staged rows become the table's rows in one transaction. */
  async finish(): Promise<void> {
    if (this.config.write_mode !== 'replace') return;
    const client = await this.connection();
    try {
      if (await this.alreadyPublished(client)) return;
      if (!this.columns && !(await this.tableColumns(client))) return;
      await client.query('begin');
      await this.staging().publish(client);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw sinkError(error, this.table, this.config);
    }
  }

  private keyOf(data: RecordBatch): string[] {
    const key = this.config.key ?? (this.key && this.key.length > 0 ? this.key : keyColumnsOf(data.schema));
    if (key.length === 0)
      throw new SluiceError(
        'SLUICE_SINK_FAILED',
        `table ${this.table}: no key to apply changes by (set \`key\` or give the table a primary key)`,
        { retriable: false },
      );
    return key;
  }

  /** Creates the table when asked and missing; adds columns that batches bring. */
  private async prepareTable(client: pg.Client, data: RecordBatch): Promise<void> {
    if (!this.columns && !(await this.tableColumns(client))) {
      if (!this.config.create_table)
        throw new SluiceError('SLUICE_SINK_FAILED', `table ${this.table} does not exist (set create_table)`, { retriable: false });
      const fields = dataFields(data.schema);
      const key = this.config.key ?? keyColumnsOf(data.schema);
      const pk = key.length > 0 ? `, primary key (${key.map(ident).join(', ')})` : '';
      await client.query(`create table if not exists ${qualified(this.table)} (${fields.map(columnDdl).join(', ')}${pk})`);
      await this.tableColumns(client);
    }
    const missing = dataFields(data.schema).filter((f) => !this.columns!.has(f.name));
    if (missing.length > 0 && this.config.add_columns) {
      await client.query(
        `alter table ${qualified(this.table)} ${missing.map((f) => `add column if not exists ${columnDdl(f)}`).join(', ')}`,
      );
      if (this.replaceStaging?.created)
        await client.query(
          `alter table ${this.replaceStaging.name} ${missing.map((f) => `add column if not exists ${columnDdl(f)}`).join(', ')}`,
        );
      this.logger?.info({ table: this.table, columns: missing.map((f) => f.name) }, 'added columns');
      await this.tableColumns(client);
    }
  }

  private async tableColumns(client: pg.Client): Promise<boolean> {
    const { schema, name } = splitTable(this.table);
    const { rows } = await client.query<{ attname: string }>(
      `select a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped`,
      [schema, name],
    );
    if (rows.length === 0) return false;
    this.columns = new Set(rows.map((r) => r.attname));
    this.key = await primaryKey(client, this.table);
    return true;
  }

  private staging(): ReplaceStaging {
    this.replaceStaging ??= new ReplaceStaging(this.table, this.resumeKey, this.resuming);
    return this.replaceStaging;
  }

  /**
   * True when this run resumes one whose replace was already published: the target holds that
   * run's rows, and what this run reads again is not written over them.
   */
  private async alreadyPublished(client: pg.Client): Promise<boolean> {
    if (this.config.write_mode !== 'replace' || !(await this.staging().published(client))) return false;
    if (!this.skipLogged)
      this.logger?.warn({ table: this.table }, 'the replace of the resumed run was already published: rows read again are not written');
    this.skipLogged = true;
    return true;
  }

  /** Applies the net change of a batch per key in one transaction, after emptying the table when `truncate`. */
  private async merge(
    client: pg.Client,
    target: string,
    data: RecordBatch,
    columns: string[],
    key: string[],
    truncate: boolean,
  ): Promise<void> {
    const formatters = columns.map((c) => textFormatter(data.getChild(c)!));
    const keyFormatters = key.map((k) => {
      const column = data.getChild(k);
      if (!column) throw new SluiceError('SLUICE_SINK_FAILED', `table ${this.table}: batch has no key column ${k}`, { retriable: false });
      return textFormatter(column);
    });
    const changes = foldChanges(data, columns, keyFormatters);
    const stage = await this.stage(client, target, columns);
    const match = key.map((k) => `t.${ident(k)} = s.${ident(k)}`).join(' and ');
    const values = columns.filter((c) => !key.includes(c));
    const conflict =
      values.length > 0 ? `do update set ${values.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}` : 'do nothing';
    const set = values
      .map((c) => `${ident(c)} = case when ${literal(c)} = any(s.__unchanged) then t.${ident(c)} else s.${ident(c)} end`)
      .join(', ');
    // One round trip for the statements after the COPY: small CDC batches are many.
    const apply = [
      `delete from ${target} t using ${stage} s where s.__op = 'd' and ${match}`,
      ...(values.length > 0
        ? [`update ${target} t set ${set} from ${stage} s where s.__op = 'u' and s.__unchanged is not null and ${match}`]
        : []),
      `insert into ${target} (${columns.map(ident).join(', ')}) select ${columns.map(ident).join(', ')} from ${stage} s
        where s.__op = 'u' and s.__unchanged is null on conflict (${key.map(ident).join(', ')}) ${conflict}`,
      'commit',
    ];
    await client.query(truncate ? `begin; truncate table ${target}` : 'begin');
    if (truncate) this.logger?.info({ table: this.table }, 'truncated (TRUNCATE at the source)');
    try {
      await copyChanges(client, stage, columns, formatters, changes);
      await client.query(apply.join(';\n'));
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /**
   * The temporary table changes are staged in, emptied at each commit. Created once per column
   * set (outside any transaction, so a rolled-back batch does not take it along), not per batch.
   */
  private async stage(client: pg.Client, target: string, columns: string[]): Promise<string> {
    const shape = `${target}(${columns.join(',')})`;
    if (this.staged !== shape) {
      await client.query(`drop table if exists pg_temp.${this.stageName}`);
      await client.query(
        `create temp table ${this.stageName} on commit delete rows as select ${columns.map(ident).join(', ')} from ${target} with no data`,
      );
      await client.query(`alter table ${this.stageName} add column ${ident(OP_COLUMN)} text, add column ${ident(UNCHANGED_COLUMN)} text[]`);
      this.staged = shape;
    }
    return this.stageName;
  }
}

/** Row of the last TRUNCATE (`__op` = t) in a changelog batch, or -1. */
function lastTruncate(data: RecordBatch): number {
  const ops = data.getChild(OP_COLUMN);
  if (!ops) return -1;
  for (let row = data.numRows - 1; row >= 0; row--) if (ops.get(row) === Op.truncate) return row;
  return -1;
}

function columnDdl(field: Field): string {
  return `${ident(field.name)} ${pgTypeOfField(field)}`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function rangeOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Streams rows to `COPY table (columns) FROM STDIN` in text format. */
async function copyRows(client: pg.Client, table: string, columns: string[], formatters: TextFormatter[], rows: number[]): Promise<void> {
  const lines: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = formatters.map((f) => copyEscape(f(rows[i]))).join('\t');
  await copyText(client, `copy ${table} (${columns.map(ident).join(', ')}) from stdin`, lines);
}

async function copyChanges(
  client: pg.Client,
  table: string,
  columns: string[],
  formatters: TextFormatter[],
  changes: FoldedChange[],
): Promise<void> {
  const lines = changes.map((change) => {
    const fields = formatters.map((f, c) => {
      if (change.op === 'd') return copyEscape(f(change.row));
      const source = change.sources![c];
      return source < 0 ? '\\N' : copyEscape(f(source));
    });
    const unknown = change.sources ? columns.filter((_, c) => change.sources![c] < 0) : [];
    fields.push(
      change.op,
      unknown.length > 0 ? copyEscape(`{${unknown.map((u) => `"${u.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`) : '\\N',
    );
    return fields.join('\t');
  });
  await copyText(client, `copy ${table} (${[...columns, OP_COLUMN, UNCHANGED_COLUMN].map(ident).join(', ')}) from stdin`, lines);
}

async function copyText(client: pg.Client, sql: string, lines: string[]): Promise<void> {
  const stream = client.query(copyFrom(sql));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    // Chunks of a few thousand rows keep memory flat without a write per row.
    for (let i = 0; i < lines.length; i += 2000) stream.write(lines.slice(i, i + 2000).join('\n') + '\n');
    stream.end();
  });
}

/** A driver error as a sink error; a timeout names the setting that ended the statement. */
function sinkError(error: unknown, table: string, config: PostgresConfig): SluiceError {
  if (error instanceof SluiceError) return error;
  const { code, message } = error as { code?: string; message: string };
  if (code === LOCK_NOT_AVAILABLE) {
    return new SluiceError(
      'SLUICE_SINK_FAILED',
      `postgresql sink ${table}: waited longer than lock_timeout_ms (${config.lock_timeout_ms} ms) for a lock another session holds: ${message}`,
      { cause: error },
    );
  }
  if (code === QUERY_CANCELED && /statement timeout/.test(message)) {
    return new SluiceError(
      'SLUICE_SINK_FAILED',
      `postgresql sink ${table}: a statement ran longer than statement_timeout_ms (${config.statement_timeout_ms} ms): ${message}`,
      { cause: error, retriable: false },
    );
  }
  return new SluiceError('SLUICE_SINK_FAILED', `postgresql sink ${table}: ${message}`, { cause: error });
}
