import { Observable } from 'rxjs';
import type { Batch } from '../../core/batch.js';
import { acquireUnlessAborted } from '../../core/flow-control.js';
import type { ReadContext } from '../../core/ports.js';
import { SluiceError, errorMessage } from '../../core/errors.js';
import type { ClientSource } from './client-pool.js';

export interface ClientRead<C> {
  client: C;
  /** Aborted when the run stops or the subscriber leaves: end the read. */
  signal: AbortSignal;
  /** Waits for an in-flight credit, then emits the batch; throws (ending the body) when the read is aborted meanwhile. */
  emit(batch: Batch): Promise<void>;
}

/** Thrown by `emit` when the read was aborted while it waited for a credit. */
class ReadAborted extends Error {}

/**
 * A source read over one client: acquired on subscribe, released when `body` ends, fails or the
 * subscriber leaves (dirty, so the pool resets or closes it, unless the body ended cleanly).
 * A read that ends because it was aborted completes; any other failure errors the read as a
 * SluiceError of the `connector`'s source (a SluiceError keeps its code and `retriable`).
 * `reads` holds the stop of every read of a source in progress, so that its close() ends them.
 */
export function readWithClient<C>(
  connector: string,
  clients: ClientSource<C>,
  ctx: ReadContext,
  body: (read: ClientRead<C>) => Promise<void>,
  reads = new Set<AbortController>(),
): Observable<Batch> {
  return new Observable<Batch>((subscriber) => {
    const stop = new AbortController();
    reads.add(stop);
    const signal = AbortSignal.any([stop.signal, ctx.signal]);
    const emit = async (batch: Batch): Promise<void> => {
      if (!(await acquireUnlessAborted(ctx.flow, signal))) throw new ReadAborted();
      subscriber.next(batch);
    };
    (async () => {
      const client = await clients.acquire(signal);
      let dirty = true;
      try {
        await body({ client, signal, emit });
        dirty = false;
      } finally {
        await clients.release(client, dirty);
      }
    })()
      .then(
        () => subscriber.complete(),
        (error: unknown) => (signal.aborted ? subscriber.complete() : subscriber.error(asSourceError(connector, error))),
      )
      .finally(() => reads.delete(stop));
    return () => stop.abort();
  });
}

/** A driver error as a SluiceError of the connector's source (a SluiceError passes through). */
export function asSourceError(connector: string, error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError('SLUICE_SOURCE_FAILED', `${connector} source: ${errorMessage(error)}`, { cause: error });
}
