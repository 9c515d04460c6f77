import { Redis } from 'ioredis';
import { SluiceError } from '../core/errors.js';

/** What Sluice knows of one key: the hash of the row it last saw in sync, and a version counter. */
export interface KeyEntry {
  hash: string;
  version: number;
}

/**
 * A write to one side of a bidirectional sync, recorded before its transaction commits, so a run
 * that dies before the state follows the write leaves a trace the next run can settle.
 */
export interface WriteIntent {
  side: 'source' | 'target';
  /** The PostgreSQL transaction (xid8) that writes. */
  transaction: string;
  /** Each key written and the hash of its row after the write (null: deleted). */
  changes: Array<[string, string | null]>;
}

/** Fields per Redis command: one round trip per chunk, never one per key. */
const CHUNK = 5000;

export interface StateSize {
  keys: number;
  bytes: number;
}

/**
 * Keyed sync state of one rule in a Redis hash (`<prefix><rule>:state`): field = key string,
 * value = `<row hash> <version>`. Reads and writes go in chunked pipelines; updates of a chunk are
 * one MULTI so counters and state move together.
 */
export class KeyState {
  constructor(
    private readonly redis: Redis,
    private readonly rule: string,
    private readonly prefix = 'sluice:sync:',
  ) {}

  get stateKey(): string {
    return `${this.prefix}${this.rule}:state`;
  }

  /** Write intents not settled yet (`<side>:<transaction>` -> JSON). */
  get intentsKey(): string {
    return `${this.prefix}${this.rule}:intents`;
  }

  /** The entries of many keys, in order (undefined where the key has none). */
  async getMany(keys: string[]): Promise<(KeyEntry | undefined)[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < keys.length; i += CHUNK) pipeline.hmget(this.stateKey, ...keys.slice(i, i + CHUNK));
    const results = await this.exec(pipeline);
    return results.flat().map((v) => (v === null ? undefined : parseEntry(v as string)));
  }

  /**
   * Sets and deletes entries and adds `counters` to the run's counters hash, atomically.
   */
  async apply(
    sets: Array<[string, KeyEntry]>,
    deletes: string[],
    counters?: { key: string; values: Record<string, number> },
  ): Promise<void> {
    if (sets.length + deletes.length === 0 && !counters) return;
    const tx = this.changes(sets, deletes);
    if (counters) for (const [name, n] of Object.entries(counters.values)) if (n !== 0) tx.hincrby(counters.key, name, n);
    await this.exec(tx);
  }

  async recordIntent(intent: WriteIntent): Promise<void> {
    await this.call(() => this.redis.hset(this.intentsKey, intentId(intent), JSON.stringify(intent)));
  }

  async intents(): Promise<WriteIntent[]> {
    const all = await this.call(() => this.redis.hgetall(this.intentsKey));
    return Object.values(all).map((v) => JSON.parse(v) as WriteIntent);
  }

  /** Sets and deletes entries and drops the intents they settle, atomically. */
  async settle(intents: WriteIntent[], sets: Array<[string, KeyEntry]>, deletes: string[]): Promise<void> {
    const tx = this.changes(sets, deletes);
    if (intents.length > 0) tx.hdel(this.intentsKey, ...intents.map(intentId));
    await this.exec(tx);
  }

  private changes(sets: Array<[string, KeyEntry]>, deletes: string[]): ReturnType<Redis['multi']> {
    const tx = this.redis.multi();
    for (let i = 0; i < sets.length; i += CHUNK) {
      tx.hset(this.stateKey, ...sets.slice(i, i + CHUNK).flatMap(([k, e]) => [k, `${e.hash} ${e.version}`]));
    }
    for (let i = 0; i < deletes.length; i += CHUNK) tx.hdel(this.stateKey, ...deletes.slice(i, i + CHUNK));
    return tx;
  }

  /** Every entry, a page at a time (HSCAN): for delete detection and bidirectional planning. */
  async *entries(): AsyncGenerator<Array<[string, KeyEntry]>> {
    let cursor = '0';
    do {
      const [next, flat] = await this.call(() => this.redis.hscan(this.stateKey, cursor, 'COUNT', CHUNK));
      cursor = next;
      const page: Array<[string, KeyEntry]> = [];
      for (let i = 0; i < flat.length; i += 2) page.push([flat[i], parseEntry(flat[i + 1])]);
      if (page.length > 0) yield page;
    } while (cursor !== '0');
  }

  /** Keys held. */
  async count(): Promise<number> {
    return this.call(() => this.redis.hlen(this.stateKey));
  }

  /** Keys held and the memory Redis estimates for them (from a sample of fields, so it stays cheap). */
  async size(): Promise<StateSize> {
    const [keys, bytes] = await Promise.all([this.count(), this.call(() => this.redis.memory('USAGE', this.stateKey))]);
    return { keys, bytes: Number(bytes ?? 0) };
  }

  async clear(): Promise<void> {
    await this.call(() => this.redis.del(this.stateKey, this.intentsKey));
  }

  private async exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
    const results = await this.call(() => pipeline.exec());
    return (results ?? []).map(([error, value]) => {
      if (error) throw stateError(error);
      return value;
    });
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw stateError(error);
    }
  }
}

function intentId(intent: WriteIntent): string {
  return `${intent.side}:${intent.transaction}`;
}

function parseEntry(value: string): KeyEntry {
  const space = value.indexOf(' ');
  return { hash: value.slice(0, space), version: Number(value.slice(space + 1)) };
}

function stateError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError('SLUICE_CHECKPOINT_FAILED', `sync state: ${(error as Error).message}`, { cause: error });
}
