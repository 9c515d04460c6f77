import type pg from 'pg';
import { Observable } from 'rxjs';
import type { Batch } from '../../core/batch.js';
import { acquireUnlessAborted } from '../../core/flow-control.js';
import type { ReadContext } from '../../core/ports.js';
import { closeQuietly, connect } from './client.js';
import type { PostgresConfig } from './config.js';
import { SluiceError } from '../../core/errors.js';

export interface ClientRead {
  client: pg.Client;
  /** Aborted when the run stops or the subscriber leaves: end the read. */
  signal: AbortSignal;
  /** Waits for an in-flight credit, then emits the batch; emits nothing once `signal` aborted. */
  emit(batch: Batch): Promise<void>;
}

/**
 * A source read over one connection of its own: the connection opens on subscribe and closes
 * when `body` ends, fails (as a source error) or the subscriber leaves. `reads` holds the stop of
 * every read in progress, so that the source's close() ends them.
 */
export function readWithClient(config: PostgresConfig, ctx: ReadContext, body: (read: ClientRead) => Promise<void>, reads = new Set<AbortController>()): Observable<Batch> {
  return new Observable<Batch>((subscriber) => {
    const stop = new AbortController();
    reads.add(stop);
    const signal = AbortSignal.any([stop.signal, ctx.signal]);
    let client: pg.Client | undefined;
    const emit = async (batch: Batch) => {
      if (await acquireUnlessAborted(ctx.flow, signal)) subscriber.next(batch);
    };
    (async () => {
      client = await connect(config);
      await body({ client, signal, emit });
    })()
      .then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(wrapSourceError(error)),
      )
      .finally(() => {
        reads.delete(stop);
        return closeQuietly(client);
      });
    return () => stop.abort();
  });
}

/** A driver error as a SluiceError of the source (a SluiceError passes through). */
export function wrapSourceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError('SLUICE_SOURCE_FAILED', `postgresql source: ${(error as Error).message}`, { cause: error });
}
