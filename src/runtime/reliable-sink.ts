import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import type { Batch } from '../core/batch.js';
import { isRetriable, SluiceError } from '../core/errors.js';
import type { Sink, SinkOpenContext } from '../core/ports.js';

/**
 * Wraps a sink shared by several partitions: writes go one at a time in arrival order, and a
 * retriable failure is retried with exponential backoff before it fails the run.
 */
export class ReliableSink {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly policy: RetryPolicy;

  constructor(
    readonly node: string,
    private readonly sink: Sink,
    retries: number,
  ) {
    this.policy = retry(handleWhen(isRetriable), { maxAttempts: retries, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5_000 }) });
  }

  async open(ctx: SinkOpenContext): Promise<void> {
    await this.sink.open?.(ctx);
  }

  write(batch: Batch): Promise<void> {
    const result = this.queue.then(() =>
      this.policy.execute(() => this.sink.write(batch)).catch((error: unknown) => {
        throw error instanceof SluiceError ? error : new SluiceError('SLUICE_SINK_FAILED', `sink '${this.node}': ${(error as Error).message}`, { cause: error, retriable: false });
      }),
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Publishes staged writes once every input completed (see `Sink.finish`). */
  async finish(): Promise<void> {
    await this.queue;
    await this.sink.finish?.();
  }

  async close(): Promise<void> {
    await this.queue;
    await this.sink.close();
  }
}
