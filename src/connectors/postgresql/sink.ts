import type pg from 'pg';
import type { Batch } from '../../core/batch.js';
import type { Sink, SinkOpenContext } from '../../core/ports.js';
import { SluiceError } from '../../core/errors.js';
import type { PostgresConfig } from './config.js';
import { closeQuietly, postgresDatasource, splitTable } from './client.js';
import { Resilience } from '../kit/resilience.js';
import { TABLE_META } from '../../core/changelog.js';
import { TableWriter } from './table-writer.js';
import { cancelOnAbort, openSession, type Session } from './cancel-on-abort.js';

/**
 * The `postgresql` sink: writes each batch to one table (see TableWriter for the write modes).
 * The table is `table`, or is picked per batch from its source table (`sluice.table` metadata,
 * else the stream) through `table_map` and `target_schema`, so one sink node can take a whole
 * multi-table CDC changelog. All tables are written on one connection, batch after batch, under
 * `lock_timeout_ms` and `statement_timeout_ms`; a write whose signal aborts is cancelled on the
 * server and rolled back. Connects and writes go through the datasource's circuit breaker.
 *
 * @example
 * { type: 'postgresql', inputs: ['cdc'], config: { url: '${env:PG_TARGET_URL}', target_schema: 'replica' } }
 */
export class PostgresSink implements Sink {
  private session: Session | undefined;
  private readonly writers = new Map<string, TableWriter>();
  private openContext: Pick<SinkOpenContext, 'resuming' | 'resumeKey' | 'logger'> | undefined;
  private readonly resilience: Resilience;

  constructor(private readonly config: PostgresConfig) {
    this.resilience = new Resilience(postgresDatasource(config), config.resilience);
  }

  async open(ctx: SinkOpenContext): Promise<void> {
    this.openContext = ctx;
    await this.connect();
  }

  async write(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (batch.data.numRows === 0) return;
    const writer = this.writer(this.targetOf(batch));
    // Through the datasource's breaker: while it is open, writes fail at once.
    await this.resilience.call(async () => cancelOnAbort(this.config, await this.connect(), signal, () => writer.write(batch)));
  }

  async finish(): Promise<void> {
    for (const writer of this.writers.values()) await writer.finish();
  }

  async close(): Promise<void> {
    await closeQuietly(this.session?.client);
    this.session = undefined;
  }

  /** The target table of a batch: mapped, then in the target schema, then the configured table. */
  targetOf(batch: Batch): string {
    const { table, table_map: map, target_schema: schema } = this.config;
    if (!map && !schema) return table!;
    const source = batch.data.schema.metadata.get(TABLE_META) ?? batch.meta.stream;
    const { name } = splitTable(source);
    const mapped = map?.[source] ?? map?.[name];
    if (mapped) return mapped;
    if (schema) return `${schema}.${name}`;
    if (table) return table;
    throw new SluiceError(
      'SLUICE_SINK_FAILED',
      `postgresql sink: no target table for source table ${source} (add it to table_map or set target_schema)`,
      { retriable: false },
    );
  }

  private writer(table: string): TableWriter {
    let writer = this.writers.get(table);
    if (!writer) {
      writer = new TableWriter(this.config, table, () => this.connection());
      if (this.openContext) writer.open(this.openContext);
      this.writers.set(table, writer);
    }
    return writer;
  }

  private async connection(): Promise<pg.Client> {
    return (await this.connect()).client;
  }

  private async connect(): Promise<Session> {
    this.session ??= await openSession(this.config, {
      lock_timeout: this.config.lock_timeout_ms,
      statement_timeout: this.config.statement_timeout_ms,
    });
    return this.session;
  }
}
