import type { RetryPolicy } from 'cockatiel';
import type { Batch } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import type { DeadLetter } from '../core/dead-letter.js';
import type { Sink, SinkOpenContext } from '../core/ports.js';
import { retriablePolicy } from './retry-policy.js';

export type SinkDeadLetterHook = (batch: Batch, letters: DeadLetter[]) => Promise<void>;

/**
 * Wraps a sink shared by several partitions: writes go one at a time in arrival order, and a
 * retriable failure is retried with exponential backoff before it fails the run. Once
 * `writeSignal` aborts, the write in progress gets it and no further write or retry starts.
 */
export class ReliableSink {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly policy: RetryPolicy;
  /** Rows the sink dead-lettered during the write attempt in progress (writes run one at a time). */
  private deadInWrite = 0;

  constructor(
    readonly node: string,
    private readonly sink: Sink,
    retries: number,
    private readonly writeSignal?: AbortSignal,
  ) {
    this.policy = retriablePolicy(retries);
  }

  /** Opens the sink; `deadLetter`, when given, lets it dead-letter rows it cannot write. */
  async open(ctx: Omit<SinkOpenContext, 'deadLetter'>, deadLetter?: SinkDeadLetterHook): Promise<void> {
    const counted: SinkDeadLetterHook | undefined = deadLetter
      ? async (batch, letters) => {
          this.deadInWrite += letters.length;
          await deadLetter(batch, letters);
        }
      : undefined;
    await this.sink.open?.({ ...ctx, ...(counted ? { deadLetter: counted } : {}) });
  }

  /** Resolves, once the batch is durable, with how many of its rows the sink dead-lettered. */
  write(batch: Batch): Promise<number> {
    const result = this.queue.then(() =>
      this.policy
        .execute(async () => {
          this.writeSignal?.throwIfAborted();
          this.deadInWrite = 0;
          await this.sink.write(batch, this.writeSignal);
          return this.deadInWrite;
        }, this.writeSignal)
        .catch((error: unknown) => {
          throw error instanceof SluiceError
            ? error
            : new SluiceError('SLUICE_SINK_FAILED', `sink '${this.node}': ${(error as Error).message}`, { cause: error, retriable: false });
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
