import { Redis } from 'ioredis';
import type { Position } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import type { CheckpointStore } from '../core/ports.js';

/**
 * Checkpoints in one Redis hash per topology: field = partition, value = JSON position. A Redis that
 * stops answering fails the call after `commandTimeoutMs` (default 10 s) instead of holding the run.
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly redis: Redis;
  /** One connection attempt shared by every call, so commands are issued in call order. */
  private ready: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly prefix = 'sluice:checkpoint:',
    options: { commandTimeoutMs?: number } = {},
  ) {
    this.redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      enableOfflineQueue: true,
      commandTimeout: options.commandTimeoutMs ?? 10_000,
    });
    // Connection errors reach the caller through the command that fails; the event needs no listener of its own.
    this.redis.on('error', () => undefined);
  }

  async get(topology: string, partition: string): Promise<Position | undefined> {
    const value = await this.call(() => this.redis.hget(this.key(topology), partition));
    return value === null ? undefined : (JSON.parse(value) as Position);
  }

  async list(topology: string): Promise<Record<string, Position>> {
    const all = await this.call(() => this.redis.hgetall(this.key(topology)));
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as Position]));
  }

  async put(topology: string, partition: string, position: Position): Promise<void> {
    await this.call(() => this.redis.hset(this.key(topology), partition, JSON.stringify(position)));
  }

  async delete(topology: string, partition: string): Promise<void> {
    await this.call(() => this.redis.hdel(this.key(topology), partition));
  }

  async close(): Promise<void> {
    if (this.redis.status === 'wait' || this.redis.status === 'end') {
      this.redis.disconnect();
      return;
    }
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(topology: string): string {
    return `${this.prefix}${topology}`;
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      this.ready ??= this.redis.connect().catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
      await this.ready;
      return await operation();
    } catch (error) {
      throw new SluiceError('SLUICE_CHECKPOINT_FAILED', `redis checkpoint store: ${(error as Error).message}`, { cause: error });
    }
  }
}
