import { Cron } from 'croner';
import { isSluiceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SyncRule } from './rule-schema.js';
import type { SyncEngine } from './sync-engine.js';

/**
 * Cron schedules of sync rules. A run still going when the next is due is not started again:
 * croner's `protect` skips overlapping ticks of one job, and the engine refuses a second run of a
 * rule started by hand meanwhile.
 */
export class SyncScheduler {
  private readonly jobs = new Map<string, Cron>();
  private readonly skips = new Map<string, number>();

  constructor(
    private readonly engine: SyncEngine,
    private readonly logger: Logger,
  ) {}

  /** (Re)schedules a rule; a rule without a schedule, or disabled, is unscheduled. */
  schedule(rule: SyncRule): void {
    this.unschedule(rule.rule_id);
    if (!rule.schedule || rule.enabled === false) return;
    const skip = () => {
      this.skips.set(rule.rule_id, (this.skips.get(rule.rule_id) ?? 0) + 1);
      this.logger.info({ rule: rule.rule_id }, 'scheduled sync skipped: the previous run is still going');
    };
    const job = new Cron(
      rule.schedule,
      {
        name: `sync:${rule.rule_id}`,
        protect: skip,
        catch: (error) => this.logger.error({ err: error, rule: rule.rule_id }, 'scheduled sync failed'),
      },
      async () => {
        if (this.engine.isRunning(rule.rule_id)) return skip();
        try {
          await this.engine.execute(rule, { trigger: 'schedule' });
        } catch (error) {
          // Running in another process: this tick is skipped like an overlapping one.
          if (isSluiceError(error) && error.code === 'SLUICE_CONFLICT') return skip();
          throw error;
        }
      },
    );
    this.jobs.set(rule.rule_id, job);
  }

  unschedule(ruleId: string): void {
    this.jobs.get(ruleId)?.stop();
    this.jobs.delete(ruleId);
  }

  /** When a rule runs next (undefined when not scheduled). */
  nextRun(ruleId: string): Date | undefined {
    return this.jobs.get(ruleId)?.nextRun() ?? undefined;
  }

  /** Ticks of a rule skipped because its previous run was still going. */
  skipped(ruleId: string): number {
    return this.skips.get(ruleId) ?? 0;
  }

  stopAll(): void {
    for (const job of this.jobs.values()) job.stop();
    this.jobs.clear();
  }
}
