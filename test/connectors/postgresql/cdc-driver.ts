import { concatMap, type Subscription } from 'rxjs';
import type { Position } from '../../../src/core/batch.js';
import { Credits } from '../../../src/core/flow-control.js';
import type { Sink, Source } from '../../../src/core/ports.js';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import { silent } from './pg-helpers.js';

/**
 * Drives source → sink through the ports as the runtime does: write, store the checkpoint,
 * then commit to the source. Credits bound the batches in flight.
 */
export class Pipeline {
  position: Position | undefined;
  batches = 0;
  rows = 0;
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private subscription: Subscription | undefined;

  constructor(
    readonly source: Source,
    readonly sink: Sink,
    from?: Position,
    onCheckpoint?: (p: Position) => void,
  ) {
    const credits = new Credits(4);
    this.position = from;
    this.done = new Promise<void>((resolve, reject) => {
      this.subscription = source
        .read('p', from, { flow: credits, signal: this.controller.signal, logger: silent, batchSize: 500 })
        .pipe(
          concatMap(async (batch) => {
            if (batch.data.numRows > 0) await sink.write(batch);
            this.batches++;
            this.rows += batch.data.numRows;
            if (batch.meta.position !== undefined) {
              this.position = batch.meta.position;
              onCheckpoint?.(batch.meta.position);
              await source.commit(batch.meta.partition, batch.meta.position);
            }
            credits.release();
          }),
        )
        .subscribe({ error: reject, complete: resolve });
    });
    this.done.catch(() => undefined);
  }

  /** The checkpointed LSN (0 before the snapshot ended). */
  get lsn(): bigint {
    const p = this.position as { lsn?: string; snapshot?: string } | undefined;
    return p?.lsn && !p.snapshot ? parseLsn(p.lsn) : 0n;
  }

  /** Waits until the checkpoint reaches an LSN (or the pipeline fails). */
  async waitFor(lsn: bigint, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let failed: unknown;
    this.done.catch((e: unknown) => (failed = e));
    while (this.lsn < lsn) {
      if (failed) throw failed;
      if (Date.now() > deadline) throw new Error(`checkpoint stuck at ${String(this.lsn)} < ${String(lsn)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.done.catch(() => undefined);
    this.subscription?.unsubscribe();
    await this.source.close();
    await this.sink.close();
  }
}
