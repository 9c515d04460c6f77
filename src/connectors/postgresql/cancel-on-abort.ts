import type pg from 'pg';
import { SluiceError, errorMessage } from '../../core/errors.js';
import type { PostgresConfig } from './config.js';
import { closeQuietly, connect } from './client.js';
import { sleep } from '../kit/sleep.js';

/** A connection and the id of its server process, which a cancel names. */
export interface Session {
  client: pg.Client;
  pid: number;
}

/** Opens a session with `settings` and learns its server process id. */
export async function openSession(config: PostgresConfig, settings: Record<string, number>): Promise<Session> {
  const client = await connect(config, { settings });
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return { client, pid: rows[0].pid };
}

/** Pause between two cancel requests of one aborted write. */
const CANCEL_REPEAT_MS = 100;

/**
 * Runs `work` on a session; when `signal` aborts before it ends, cancels the statement the
 * session runs, from a connection of its own (a statement waiting for a lock reads nothing from
 * its socket), so the work fails at once and its transaction rolls back. Rejects with
 * SLUICE_CANCELLED, naming the abort reason.
 */
export async function cancelOnAbort<T>(
  config: PostgresConfig,
  session: Session,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) throw cancelled(signal);
  const ended = new AbortController();
  let cancelling: Promise<void> | undefined;
  const cancel = () => {
    cancelling = cancelUntil(config, session.pid, ended.signal);
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await work();
  } catch (error) {
    throw signal.aborted ? cancelled(signal, error) : error;
  } finally {
    ended.abort();
    signal.removeEventListener('abort', cancel);
    // Done before the session's next statement, so no cancel of this write can hit that one.
    await cancelling;
  }
}

/**
 * Cancels what a server process runs until `ended` aborts: a cancel that reaches the session between
 * two statements of a write is dropped by the server, so it is sent again while the write goes
 * on. A failed cancel leaves the statement to its timeouts.
 */
async function cancelUntil(config: PostgresConfig, pid: number, ended: AbortSignal): Promise<void> {
  let client: pg.Client | undefined;
  try {
    client = await connect(config);
    while (!ended.aborted) {
      await client.query('select pg_cancel_backend($1)', [pid]);
      await sleep(CANCEL_REPEAT_MS, ended);
    }
  } catch {
    // statement_timeout and lock_timeout still bound the write.
  } finally {
    await closeQuietly(client);
  }
}

function cancelled(signal: AbortSignal, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_CANCELLED', `postgresql sink: write cancelled: ${errorMessage(signal.reason)}`, {
    cause: cause ?? signal.reason,
  });
}
