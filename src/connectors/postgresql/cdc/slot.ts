import type pg from 'pg';
import { SluiceError } from '../../../core/errors.js';
import { ident, qualified } from '../client.js';

export interface SlotState {
  confirmedFlushLsn: string | null;
  active: boolean;
  /** `lost` once the server removed WAL the slot needed (max_slot_wal_keep_size). */
  walStatus: string | null;
}

/** The slot's state, or undefined when it does not exist. */
export async function slotState(client: pg.Client, slot: string): Promise<SlotState | undefined> {
  const { rows } = await client.query<{ confirmed_flush_lsn: string | null; active: boolean; wal_status: string | null }>(
    'select confirmed_flush_lsn::text, active, wal_status from pg_replication_slots where slot_name = $1',
    [slot],
  );
  if (rows.length === 0) return undefined;
  return { confirmedFlushLsn: rows[0].confirmed_flush_lsn, active: rows[0].active, walStatus: rows[0].wal_status };
}

/** Creates the publication when missing: for the given tables, or for all tables. */
export async function ensurePublication(client: pg.Client, publication: string, tables: string[] | undefined): Promise<void> {
  const { rows } = await client.query('select 1 from pg_publication where pubname = $1', [publication]);
  if (rows.length > 0) return;
  const target = tables && tables.length > 0 ? `for table ${tables.map(qualified).join(', ')}` : 'for all tables';
  await client.query(`create publication ${ident(publication)} ${target}`);
}

/** Tables of a publication, as `schema.table`. */
export async function publicationTables(client: pg.Client, publication: string): Promise<string[]> {
  const { rows } = await client.query<{ schemaname: string; tablename: string }>(
    'select schemaname, tablename from pg_publication_tables where pubname = $1 order by 1, 2',
    [publication],
  );
  return rows.map((r) => `${r.schemaname}.${r.tablename}`);
}

/**
 * Creates a logical slot on a replication connection. With `exportSnapshot` the returned snapshot
 * name stays importable until the next command runs on that connection.
 */
export async function createSlot(
  replication: pg.Client,
  slot: string,
  exportSnapshot: boolean,
): Promise<{ consistentPoint: string; snapshotName: string | null }> {
  try {
    const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${ident(slot)} LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`,
    );
    return { consistentPoint: rows[0].consistent_point, snapshotName: rows[0].snapshot_name };
  } catch (error) {
    throw new SluiceError('SLUICE_SOURCE_FAILED', `cannot create replication slot ${slot}: ${(error as Error).message}`, {
      cause: error,
      retriable: false,
    });
  }
}

export async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  await client.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [slot]);
}
