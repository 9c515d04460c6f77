import { SluiceError } from '../../core/errors.js';
import type { StepRunner } from './step-context.js';

let syncRunner: StepRunner | undefined;

/** Plugs the sync engine in: `sync` steps run through it once it is set. */
export function setSyncStepRunner(runner: StepRunner | undefined): void {
  syncRunner = runner;
}

/** Runs a sync rule; until a sync engine is plugged in, fails with a clear error. */
export const runSync: StepRunner = async (ctx) => {
  if (!syncRunner) {
    throw new SluiceError('SLUICE_SYNC_UNAVAILABLE', `step '${ctx.step.spec.id}': sync engine not available in this build`, {
      issues: [{ path: 'config.rule_id', message: 'sync engine not available' }],
    });
  }
  return syncRunner(ctx);
};
