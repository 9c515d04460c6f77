import { Cron } from 'croner';
import { SluiceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Validates a cron expression, naming the field when it does not parse. */
export function checkCron(expression: string, path: string): void {
  try {
    new Cron(expression, { paused: true }).stop();
  } catch (error) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', `${path}: ${(error as Error).message}`, {
      issues: [{ path, message: `invalid cron expression: ${(error as Error).message}` }],
    });
  }
}

/**
 * Cron schedules (croner) keyed by name, e.g. `pipeline:<id>`. Setting a key replaces its job.
 * A task only starts a run in the background; whether a tick may start one while an earlier
 * run goes on is the run manager's decision (`max_concurrent_runs`).
 */
export class Scheduler {
  private readonly jobs = new Map<string, Cron>();

  constructor(private readonly logger: Logger) {}

  set(key: string, expression: string | null | undefined, task: () => Promise<unknown>): void {
    this.remove(key);
    if (!expression) return;
    const job = new Cron(
      expression,
      { protect: true, catch: (error) => this.logger.error({ err: error, schedule: key }, 'scheduled task failed') },
      async () => {
        this.logger.info({ schedule: key }, 'scheduled run');
        await task();
      },
    );
    this.jobs.set(key, job);
  }

  remove(key: string): void {
    this.jobs.get(key)?.stop();
    this.jobs.delete(key);
  }

  /** Next fire time of a key, for status displays. */
  next(key: string): string | null {
    return this.jobs.get(key)?.nextRun()?.toISOString() ?? null;
  }

  stopAll(): void {
    for (const job of this.jobs.values()) job.stop();
    this.jobs.clear();
  }
}
