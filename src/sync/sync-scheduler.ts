import { Cron } from 'croner';
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

  constructor(private readonly engine: SyncEngine, private readonly logger: Logger) {}

  /** (Re)schedules a rule; a rule without a schedule, or disabled, is unscheduled. */
  schedule(rule: SyncRule): void {
    this.unschedule(rule.rule_id);
    if (!rule.schedule || rule.enabled === false) return;
    const job = new Cron(rule.schedule, { name: `sync:${rule.rule_id}`, protect: true, catch: (error) => this.logger.error({ err: error, rule: rule.rule_id }, 'scheduled sync failed') }, async () => {
      if (this.engine.isRunning(rule.rule_id)) {
        this.logger.info({ rule: rule.rule_id }, 'scheduled sync skipped: the previous run is still going');
        return;
      }
      await this.engine.execute(rule, { trigger: 'schedule' });
    });
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

  stopAll(): void {
    for (const job of this.jobs.values()) job.stop();
    this.jobs.clear();
  }
}
