import type { FlowControl } from './ports.js';

/** A counting semaphore: the in-flight batch limit of one source partition. */
export class Credits implements FlowControl {
  private available: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    this.available = limit;
  }

  acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiting.shift();
      if (next) next();
      else this.available = Math.min(this.limit, this.available + 1);
    }
  }

  /** Batches currently holding a credit. */
  get inFlight(): number {
    return this.limit - this.available;
  }
}

/**
 * Waits for a credit unless `signal` aborts first: true once the credit is held, false when the
 * read was stopped (its credit, if it still comes, is never spent). A source that awaits
 * `acquire()` alone stays blocked after a stop when no credit is ever released again.
 */
export function acquireUnlessAborted(flow: FlowControl, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    flow.acquire().then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(!signal.aborted);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
