import type { Redis } from 'ioredis';
import { SluiceError } from '../core/errors.js';
import type { SyncRule } from './rule-schema.js';
import type { SyncRun } from './sync-run.js';

/** A key changed on both sides, parked by the `manual` strategy until someone resolves it. */
export interface ParkedConflict {
  key: string;
  /** The row on each side as text values (target column names); null when deleted there. */
  source: Record<string, string | null> | null;
  target: Record<string, string | null> | null;
  detected_at: string;
}

const HISTORY_LIMIT = 100;

/**
 * Rules, run history and parked conflicts of the sync engine, in Redis next to the keyed state,
 * so the engine runs the same with or without the control plane.
 */
export class SyncStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'sluice:sync:',
  ) {}

  async putRule(rule: SyncRule): Promise<void> {
    await this.call(() => this.redis.hset(`${this.prefix}rules`, rule.rule_id, JSON.stringify(rule)));
  }

  async getRule(ruleId: string): Promise<SyncRule | undefined> {
    const value = await this.call(() => this.redis.hget(`${this.prefix}rules`, ruleId));
    return value === null ? undefined : (JSON.parse(value) as SyncRule);
  }

  async listRules(): Promise<SyncRule[]> {
    const all = await this.call(() => this.redis.hgetall(`${this.prefix}rules`));
    return Object.values(all)
      .map((v) => JSON.parse(v) as SyncRule)
      .sort((a, b) => a.rule_id.localeCompare(b.rule_id));
  }

  /** Removes a rule with its state, checkpoints, history and conflicts; false when unknown. */
  async deleteRule(ruleId: string): Promise<boolean> {
    const removed = await this.call(() => this.redis.hdel(`${this.prefix}rules`, ruleId));
    const base = `${this.prefix}${ruleId}:`;
    await this.call(() => this.redis.del(`${base}state`, `${base}history`, `${base}conflicts`, `${this.prefix}checkpoint:sync.${ruleId}`));
    return removed > 0;
  }

  async addRun(run: SyncRun): Promise<void> {
    const key = `${this.prefix}${run.rule_id}:history`;
    await this.call(() =>
      this.redis
        .multi()
        .lpush(key, JSON.stringify(run))
        .ltrim(key, 0, HISTORY_LIMIT - 1)
        .exec(),
    );
  }

  /** Runs of a rule, newest first. */
  async history(ruleId: string, limit = HISTORY_LIMIT): Promise<SyncRun[]> {
    const values = await this.call(() => this.redis.lrange(`${this.prefix}${ruleId}:history`, 0, limit - 1));
    return values.map((v) => JSON.parse(v) as SyncRun);
  }

  async parkConflicts(ruleId: string, conflicts: ParkedConflict[]): Promise<void> {
    if (conflicts.length === 0) return;
    await this.call(() => this.redis.hset(`${this.prefix}${ruleId}:conflicts`, ...conflicts.flatMap((c) => [c.key, JSON.stringify(c)])));
  }

  async conflicts(ruleId: string): Promise<ParkedConflict[]> {
    const all = await this.call(() => this.redis.hgetall(`${this.prefix}${ruleId}:conflicts`));
    return Object.values(all)
      .map((v) => JSON.parse(v) as ParkedConflict)
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  async parkedKeys(ruleId: string): Promise<Set<string>> {
    return new Set(await this.call(() => this.redis.hkeys(`${this.prefix}${ruleId}:conflicts`)));
  }

  async unpark(ruleId: string, keys: string[]): Promise<void> {
    if (keys.length > 0) await this.call(() => this.redis.hdel(`${this.prefix}${ruleId}:conflicts`, ...keys));
  }

  /** Counters a run accumulates in Redis while it goes (see SyncSink), removed once read. */
  async takeCounters(key: string): Promise<Record<string, number>> {
    const [[, values]] = (await this.call(() => this.redis.multi().hgetall(key).del(key).exec())) as [[unknown, Record<string, string>]];
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]));
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new SluiceError('SLUICE_CONNECTION_FAILED', `sync store (redis): ${(error as Error).message}`, { cause: error });
    }
  }
}
