import type pg from 'pg';
import type { Observable } from 'rxjs';
import type { Batch } from '../../core/batch.js';
import type { ReadContext } from '../../core/ports.js';
import type { SluiceError } from '../../core/errors.js';
import { asSourceError, readWithClient as readWithPooledClient, type ClientRead } from '../kit/read-with-client.js';
import type { PostgresConfig } from './config.js';
import { postgresPool } from './pool.js';

/** A source read over one connection of the datasource's pool (see the kit's readWithClient, also for `reads`). */
export function readWithClient(
  config: PostgresConfig,
  ctx: ReadContext,
  body: (read: ClientRead<pg.Client>) => Promise<void>,
  reads?: Set<AbortController>,
): Observable<Batch> {
  return readWithPooledClient('postgresql', postgresPool(config), ctx, body, reads);
}

/** A driver error as a SluiceError of the source (a SluiceError passes through). */
export function wrapSourceError(error: unknown): SluiceError {
  return asSourceError('postgresql', error);
}
