import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import '../register-all.js';
import './sync-target.js';
import { parseConfig } from '../core/config.js';
import { connectorDefinition } from '../core/capabilities.js';
import { SluiceError, errorMessage } from '../core/errors.js';
import { logger as rootLogger, type Logger } from '../core/logger.js';
import { postgresConfigSchema, type PostgresConfig } from '../connectors/postgresql/config.js';
import { closeQuietly, connect, primaryKey, qualified } from '../connectors/postgresql/client.js';
import { MemoryCheckpointStore } from '../state/memory-checkpoint-store.js';
import { runTopology } from '../runtime/run-topology.js';
import { RedisCheckpointStore } from '../state/redis-checkpoint-store.js';
import { compileTopology } from '../topology/compile.js';
import { runBidirectional } from './bidirectional.js';
import { writeRecorded } from './recorded-writes.js';
import { cdcSlotName, compileRule, requireSyncCapabilities, ruleSideConfig, type DatasourceResolver } from './compile-rule.js';
import { KeyState, type StateSize } from '../state/key-state.js';
import { PgSide } from './pg-side.js';
import { RetainedCheckpoints } from './retained-checkpoints.js';
import { RunLock } from './run-lock.js';
import { conflictPolicy, parseSyncRule, type SyncRule } from './rule-schema.js';
import type { SyncRun } from './sync-run.js';
import { SyncStore, type ParkedConflict } from './sync-store.js';
import { observeSyncRun } from './sync-metrics.js';

export interface SyncEngineOptions {
  resolve: DatasourceResolver;
  /** Redis of state, checkpoints, rules and history (`REDIS_URL`, default localhost). */
  redisUrl?: string;
  keyPrefix?: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface ExecuteOptions {
  trigger?: SyncRun['trigger'];
  /** Stops the run (a CDC sync runs until it aborts). */
  signal?: AbortSignal;
}

export interface RuleStatus {
  rule_id: string;
  running: boolean;
  last_run?: SyncRun;
  total_syncs: number;
  successful_syncs: number;
  failed_syncs: number;
  average_sync_ms: number;
  /** Since the start of the last successful run: how stale the target may be. */
  lag_ms?: number;
  state: StateSize;
  open_conflicts: number;
}

/**
 * The sync engine: runs sync rules (one-way as topologies on the runtime, bidirectional between
 * two PostgreSQL tables), keeps their keyed state, history and parked conflicts in Redis, and
 * never runs one rule twice at once.
 */
export class SyncEngine {
  readonly store: SyncStore;
  private readonly redis: Redis;
  private readonly redisUrl: string;
  private readonly keyPrefix: string;
  private readonly logger: Logger;
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly options: SyncEngineOptions) {
    const env = options.env ?? process.env;
    this.redisUrl = options.redisUrl ?? env.SLUICE_REDIS_URL ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    this.keyPrefix = options.keyPrefix ?? env.SLUICE_SYNC_KEY_PREFIX ?? 'sluice:sync:';
    this.logger = (options.logger ?? rootLogger).child({ component: 'sync' });
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
    this.redis.on('error', (error) => this.logger.debug({ err: error }, 'redis connection error'));
    this.store = new SyncStore(this.redis, this.keyPrefix);
  }

  /** Validates and stores a rule (replacing one with the same id). */
  async saveRule(document: unknown): Promise<SyncRule> {
    const rule = parseSyncRule(document);
    await this.store.putRule(rule);
    return rule;
  }

  async rule(ruleId: string): Promise<SyncRule> {
    const rule = await this.store.getRule(ruleId);
    if (!rule)
      throw new SluiceError('SLUICE_NOT_FOUND', `no sync rule '${ruleId}'`, {
        issues: [{ path: 'params.rule_id', message: 'sync rule not found' }],
      });
    return rule;
  }

  isRunning(ruleId: string): boolean {
    return this.running.has(ruleId);
  }

  /**
   * Starts a run of a rule and returns its id with the promise of its result. A rule already
   * running, in this process or another (a run lock in Redis), is refused with SLUICE_CONFLICT:
   * a run is never started twice.
   */
  async start(rule: SyncRule, options: ExecuteOptions = {}): Promise<{ runId: string; done: Promise<SyncRun> }> {
    if (this.running.has(rule.rule_id)) {
      throw new SluiceError('SLUICE_CONFLICT', `sync rule '${rule.rule_id}' is already running`, {
        issues: [{ path: 'params.rule_id', message: 'a run is in progress' }],
      });
    }
    // Claimed before the lock is awaited, so a second start in this process is refused at once.
    let ended!: () => void;
    this.running.set(rule.rule_id, new Promise<void>((resolve) => (ended = resolve)));
    const end = () => {
      this.running.delete(rule.rule_id);
      ended();
    };
    const lock = new RunLock(this.redis, `${this.keyPrefix}${rule.rule_id}:lock`);
    const locked = await lock.acquire().catch((error: unknown) => {
      end();
      throw new SluiceError('SLUICE_CONNECTION_FAILED', `sync run lock (redis): ${errorMessage(error)}`, { cause: error });
    });
    if (!locked) {
      end();
      throw new SluiceError('SLUICE_CONFLICT', `sync rule '${rule.rule_id}' is running in another process`, {
        issues: [{ path: 'params.rule_id', message: 'a run is in progress elsewhere' }],
      });
    }
    const runId = randomUUID();
    const done = this.run(rule, runId, options).finally(async () => {
      await lock.release().catch((error: unknown) => this.logger.warn({ err: error, rule: rule.rule_id }, 'run lock not released'));
      end();
    });
    return { runId, done };
  }

  /** Runs a rule to its end and returns the run's record (also kept in its history). */
  async execute(rule: SyncRule, options: ExecuteOptions = {}): Promise<SyncRun> {
    return (await this.start(rule, options)).done;
  }

  private async run(rule: SyncRule, runId: string, options: ExecuteOptions): Promise<SyncRun> {
    const logger = this.logger.child({ rule: rule.rule_id, run: runId });
    const started = Date.now();
    const run: SyncRun = {
      run_id: runId,
      rule_id: rule.rule_id,
      mode: rule.mode ?? 'full',
      bidirectional: rule.bidirectional ?? false,
      status: 'running',
      trigger: options.trigger ?? 'manual',
      started_at: new Date(started).toISOString(),
      rows_read: 0,
      rows_inserted: 0,
      rows_updated: 0,
      rows_deleted: 0,
      rows_unchanged: 0,
      conflicts: 0,
      errors: 0,
    };
    try {
      if (rule.bidirectional) await this.runBidirectional(rule, run, logger);
      else await this.runOneWay(rule, run, logger, options.signal);
    } catch (error) {
      run.status = 'failed';
      run.error = errorMessage(error);
      run.errors++;
      logger.error({ err: error }, 'sync run failed');
    }
    const finished = Date.now();
    run.finished_at = new Date(finished).toISOString();
    run.duration_ms = finished - started;
    run.lag_ms = finished - started;
    try {
      const size = await this.state(rule.rule_id).size();
      run.state_keys = size.keys;
      run.state_bytes = size.bytes;
    } catch (error) {
      logger.warn({ err: error }, 'state size unavailable');
    }
    observeSyncRun(run);
    await this.store.addRun(run).catch((error: unknown) => logger.warn({ err: error }, 'run history not stored'));
    logger.info({ ...run }, `sync run ${run.status}`);
    return run;
  }

  private async runOneWay(rule: SyncRule, run: SyncRun, logger: Logger, signal?: AbortSignal): Promise<void> {
    const countersKey = `${this.keyPrefix}${rule.rule_id}:run:${run.run_id}`;
    const spec = await compileRule(rule, {
      resolve: this.options.resolve,
      redisUrl: this.redisUrl,
      keyPrefix: this.keyPrefix,
      countersKey,
      env: this.options.env,
    });
    const topology = compileTopology(spec, { envRefs: 'refuse' });
    // Incremental and CDC resume at their checkpointed position, across runs. A full or snapshot
    // read always starts over: delete detection needs every key seen in one complete read, and
    // the keyed state already makes a repeated read write only what changed.
    const checkpoints =
      rule.mode === 'incremental' || rule.mode === 'cdc'
        ? new RetainedCheckpoints(new RedisCheckpointStore(this.redisUrl, `${this.keyPrefix}checkpoint:`))
        : new MemoryCheckpointStore();
    try {
      const summary = await runTopology(topology, { checkpoints, logger, signal });
      const counters = await this.store.takeCounters(countersKey);
      run.status = summary.status;
      run.rows_read = counters.read ?? 0;
      run.rows_inserted = counters.inserted ?? 0;
      run.rows_updated = counters.updated ?? 0;
      run.rows_deleted = counters.deleted ?? 0;
      run.rows_unchanged = counters.unchanged ?? 0;
      run.rows_filtered = counters.filtered ?? 0;
      run.errors = summary.deadLettered;
      if (summary.status === 'failed') {
        run.error = summary.error;
        run.errors++;
      }
    } finally {
      await checkpoints.close();
    }
  }

  private async runBidirectional(rule: SyncRule, run: SyncRun, logger: Logger): Promise<void> {
    const { source, target } = await this.sides(rule);
    try {
      await source.open();
      await target.open();
      const counts = await runBidirectional({
        ruleId: rule.rule_id,
        source,
        target,
        state: this.state(rule.rule_id),
        store: this.store,
        policy: conflictPolicy(rule),
        logger,
      });
      Object.assign(run, counts);
      run.status = 'completed';
    } finally {
      await source.close();
      await target.close();
    }
  }

  /** Both tables of a bidirectional rule, columns matched through field_mapping (source → target names). */
  private async sides(rule: SyncRule): Promise<{ source: PgSide; target: PgSide }> {
    const sourceConfig = await this.postgresConfig(rule, 'source');
    const targetConfig = await this.postgresConfig(rule, 'target');
    const mapping = rule.field_mapping ?? {};
    const toTarget = (c: string) => mapping[c] ?? c;
    const sourceColumns = await tableColumns(sourceConfig, sourceConfig.table!);
    const targetColumns = new Set(await tableColumns(targetConfig, targetConfig.table!));
    const byTarget = new Map(sourceColumns.filter((c) => targetColumns.has(toTarget(c))).map((c) => [toTarget(c), c]));
    const key = rule.filters?.primary_key ?? (await sidePrimaryKey(sourceConfig)).map(toTarget);
    if (key.length === 0 || key.some((k) => !byTarget.has(k))) {
      throw new SluiceError(
        'SLUICE_CONFIG_INVALID',
        `bidirectional sync needs key columns present on both sides (got ${key.join(', ') || 'none'})`,
        { issues: [{ path: 'rule.filters.primary_key', message: 'set it, or give the source table a primary key' }] },
      );
    }
    const canonical = [...key, ...[...byTarget.keys()].filter((c) => !key.includes(c)).sort()];
    return {
      source: new PgSide(
        sourceConfig,
        sourceConfig.table!,
        canonical,
        canonical.map((c) => byTarget.get(c)!),
        key.length,
      ),
      target: new PgSide(targetConfig, targetConfig.table!, canonical, canonical, key.length),
    };
  }

  private async postgresConfig(rule: SyncRule, side: 'source' | 'target'): Promise<PostgresConfig> {
    const name = rule[side];
    const path = `rule.${side}`;
    const datasource = await this.options.resolve(name);
    requireSyncCapabilities({ ...rule, bidirectional: true }, side, datasource.type);
    const config = parseConfig(
      postgresConfigSchema,
      await ruleSideConfig(rule, side, datasource, 'rule', this.options.env),
      `${path}_config`,
    );
    if (!config.table)
      throw new SluiceError('SLUICE_CONFIG_INVALID', `${path}: no table (set ${path}_config.table)`, {
        issues: [{ path: `${path}_config.table`, message: 'required' }],
      });
    return config;
  }

  private state(ruleId: string): KeyState {
    return new KeyState(this.redis, ruleId, this.keyPrefix);
  }

  /** Status of one rule: whether it runs, its last run, totals, lag, state size and open conflicts. */
  async status(ruleId: string): Promise<RuleStatus> {
    const history = await this.store.history(ruleId);
    const finished = history.filter((r) => r.status !== 'running');
    const successful = finished.filter((r) => r.status === 'completed');
    const lastSuccess = successful[0];
    return {
      rule_id: ruleId,
      running: this.running.has(ruleId),
      ...(history[0] ? { last_run: history[0] } : {}),
      total_syncs: finished.length,
      successful_syncs: successful.length,
      failed_syncs: finished.filter((r) => r.status === 'failed').length,
      average_sync_ms: finished.length > 0 ? Math.round(finished.reduce((sum, r) => sum + (r.duration_ms ?? 0), 0) / finished.length) : 0,
      ...(lastSuccess ? { lag_ms: Date.now() - Date.parse(lastSuccess.started_at) } : {}),
      state: await this.state(ruleId).size(),
      open_conflicts: (await this.store.parkedKeys(ruleId)).size,
    };
  }

  async conflicts(ruleId: string): Promise<ParkedConflict[]> {
    return this.store.conflicts(ruleId);
  }

  /**
   * Settles parked conflicts: the chosen side's current row (or its absence) is written to the
   * other side, and the state records it. A key whose row changed while resolving stays parked
   * (SLUICE_CONFLICT when it is the only one). Refused while the rule runs.
   */
  async resolveConflicts(
    rule: SyncRule,
    keys: string[],
    resolution: 'source' | 'target',
  ): Promise<{ resolved: string[]; written_to: 'source' | 'target' }> {
    const parked = await this.store.parkedKeys(rule.rule_id);
    const unknown = keys.find((k) => !parked.has(k));
    if (unknown !== undefined)
      throw new SluiceError('SLUICE_NOT_FOUND', `no open conflict for key ${unknown}`, {
        issues: [{ path: 'body.key', message: 'no open conflict with this key' }],
      });
    if (this.running.has(rule.rule_id))
      throw new SluiceError('SLUICE_CONFLICT', `sync rule '${rule.rule_id}' is running; resolve after it ends`);
    const { source, target } = await this.sides(rule);
    try {
      await source.open();
      await target.open();
      const [from, to] = resolution === 'source' ? [source, target] : [target, source];
      const winners = await from.fetch(keys);
      const losers = await to.fetch(keys);
      const state = this.state(rule.rule_id);
      const entries = await state.getMany(keys);
      const versions = new Map(keys.map((k, i) => [k, entries[i]?.version ?? 0]));
      const changes = keys.map((key) => {
        const loser = losers.get(key);
        return { key, values: winners.get(key) ?? null, expect: loser ? to.hash(loser) : undefined };
      });
      const applied = await writeRecorded(
        state,
        to,
        resolution === 'source' ? 'target' : 'source',
        changes,
        (key) => versions.get(key) ?? 0,
      );
      if (applied.length === 0 && keys.length === 1)
        throw new SluiceError('SLUICE_CONFLICT', `key ${keys[0]} changed while resolving; try again`);
      const resolved = applied.map((c) => c.key);
      await this.store.unpark(rule.rule_id, resolved);
      return { resolved, written_to: resolution === 'source' ? 'target' : 'source' };
    } finally {
      await source.close();
      await target.close();
    }
  }

  /**
   * Deletes a rule with its state, checkpoints, history and conflicts; a CDC rule's replication
   * slot is dropped too, so the source stops retaining WAL for it.
   */
  async deleteRule(ruleId: string): Promise<boolean> {
    if (this.running.has(ruleId)) throw new SluiceError('SLUICE_CONFLICT', `sync rule '${ruleId}' is running`);
    const rule = await this.store.getRule(ruleId);
    if (rule?.mode === 'cdc')
      await this.dropSlot(rule).catch((error: unknown) => this.logger.warn({ err: error, rule: ruleId }, 'replication slot not dropped'));
    return this.store.deleteRule(ruleId);
  }

  private async dropSlot(rule: SyncRule): Promise<void> {
    const datasource = await this.options.resolve(rule.source);
    const release = connectorDefinition(datasource.type).releaseSyncSource;
    await release?.(await ruleSideConfig(rule, 'source', datasource, 'rule', this.options.env), cdcSlotName(rule.rule_id));
  }

  /** Waits for running syncs to end, then closes the Redis connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

async function tableColumns(config: PostgresConfig, table: string): Promise<string[]> {
  const client = await connect(config);
  try {
    const { rows } = await client.query<{ attname: string }>(
      'select attname from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum',
      [qualified(table)],
    );
    return rows.map((r) => r.attname);
  } finally {
    await closeQuietly(client);
  }
}

async function sidePrimaryKey(config: PostgresConfig): Promise<string[]> {
  const client = await connect(config);
  try {
    return await primaryKey(client, config.table!);
  } finally {
    await closeQuietly(client);
  }
}
