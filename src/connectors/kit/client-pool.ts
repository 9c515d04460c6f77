import { SluiceError, errorMessage } from '../../core/errors.js';
import type { ConnectionMetrics } from './connection-metrics.js';

/**
 * Where a read gets its client and gives it back. A pool of exclusive connections (PostgreSQL,
 * SQL Server) is a `ConnectionPool`; a driver that multiplexes one client (MongoDB,
 * Elasticsearch, an HTTP agent) hands out the same client every time and releases nothing.
 */
export interface ClientSource<C> {
  acquire(signal?: AbortSignal): Promise<C>;
  /** `dirty`: the work on the client ended early (failed, aborted) and left it in an unknown state. */
  release(client: C, dirty: boolean): Promise<void>;
}

/** How a pool opens, cleans and closes connections of one driver. */
export interface ConnectionDriver<C> {
  /** Opens one connection (measured and retried by the driver: see ConnectionMetrics, Resilience). */
  open(): Promise<C>;
  /** Ends a connection; never throws. */
  close(connection: C): Promise<void>;
  /** Brings a dirty connection back to a clean state (e.g. rolls back); throws when it cannot. */
  reset(connection: C): Promise<void>;
  /** Calls `lost` when the server or the network ends the connection. */
  onLost(connection: C, lost: () => void): void;
  /** An idle connection must not keep the process alive: `false` while idle, `true` in use. */
  hold?(connection: C, held: boolean): void;
}

interface Waiter<C> {
  give(connection: C): void;
  fail(error: unknown): void;
}

/**
 * A bounded pool of exclusive connections to one datasource: at most `size` open, idle ones
 * reused (and closed after `idleTimeoutMs`), callers beyond `size` wait in order (an aborted wait
 * leaves the queue). A dirty connection is reset before reuse, closed when that fails; a lost one
 * is dropped. Reports its utilization (in use / size) to `metrics`.
 */
export class ConnectionPool<C> implements ClientSource<C> {
  private readonly idle: C[] = [];
  private readonly inUse = new Set<C>();
  private readonly lost = new Set<C>();
  private readonly idleTimers = new Map<C, NodeJS.Timeout>();
  private readonly waiting: Waiter<C>[] = [];
  private opening = 0;

  constructor(
    private readonly driver: ConnectionDriver<C>,
    private readonly metrics: ConnectionMetrics,
    readonly size: number,
    private readonly idleTimeoutMs = 10_000,
  ) {}

  get idleCount(): number {
    return this.idle.length;
  }

  get inUseCount(): number {
    return this.inUse.size;
  }

  async acquire(signal?: AbortSignal): Promise<C> {
    signal?.throwIfAborted();
    const idle = this.idle.pop();
    if (idle !== undefined) return this.lend(idle);
    if (this.inUse.size + this.idle.length + this.opening < this.size) return this.lend(await this.open());
    return new Promise<C>((resolve, reject) => {
      // Leaves the queue on abort; a waiter already being served gets its connection regardless.
      const leave = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const settle = (): void => signal?.removeEventListener('abort', leave);
      const waiter: Waiter<C> = {
        give: (connection) => {
          settle();
          resolve(connection);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }

  async release(connection: C, dirty: boolean): Promise<void> {
    if (!this.inUse.delete(connection)) return;
    if (dirty && !this.lost.has(connection)) {
      try {
        await this.driver.reset(connection);
      } catch {
        this.lost.add(connection);
      }
    }
    if (this.lost.has(connection)) {
      this.lost.delete(connection);
      await this.driver.close(connection);
      this.report();
      this.serveWaiter();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) return waiter.give(this.lend(connection));
    this.driver.hold?.(connection, false);
    this.idle.push(connection);
    this.idleTimers.set(connection, setTimeout(() => this.retire(connection), this.idleTimeoutMs).unref());
    this.report();
  }

  /** Closes every idle connection (those in use close when released dirty or lost). */
  async drain(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((c) => this.retire(c)));
  }

  private lend(connection: C): C {
    clearTimeout(this.idleTimers.get(connection));
    this.idleTimers.delete(connection);
    this.driver.hold?.(connection, true);
    this.inUse.add(connection);
    this.report();
    return connection;
  }

  private async open(): Promise<C> {
    this.opening++;
    try {
      const connection = await this.driver.open();
      this.driver.onLost(connection, () => this.onLost(connection));
      return connection;
    } finally {
      this.opening--;
    }
  }

  private onLost(connection: C): void {
    if (this.idle.includes(connection)) void this.retire(connection);
    else if (this.inUse.has(connection)) this.lost.add(connection);
  }

  private async retire(connection: C): Promise<void> {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    clearTimeout(this.idleTimers.get(connection));
    this.idleTimers.delete(connection);
    this.report();
    await this.driver.close(connection);
  }

  /** A slot freed: the first live waiter opens a connection of its own. */
  private serveWaiter(): void {
    const waiter = this.waiting.shift();
    if (!waiter) return;
    this.open().then(
      (connection) => waiter.give(this.lend(connection)),
      (error: unknown) =>
        waiter.fail(
          error instanceof SluiceError ? error : new SluiceError('SLUICE_CONNECTION_FAILED', errorMessage(error), { cause: error }),
        ),
    );
  }

  private report(): void {
    this.metrics.pool(this.inUse.size, this.size);
  }
}
