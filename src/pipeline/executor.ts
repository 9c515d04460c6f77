import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { SluiceError, errorMessage, isSluiceError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { race } from '../core/race.js';
import './step-output.js';
import type { StepType } from './pipeline-schema.js';
import type { PipelinePlan, PlannedStep } from './plan.js';
import { settleWithinGrace } from './settle-within-grace.js';
import { runCustom } from './steps/custom.js';
import { runExtract } from './steps/extract.js';
import { runLoad } from './steps/load.js';
import type { ResolvedDatasource, StepOutcome, StepRunner } from './steps/step-context.js';
import { runSync } from './steps/sync.js';
import { runTransform } from './steps/transform.js';
import { runValidate } from './steps/validate.js';

const RUNNERS: Record<StepType, StepRunner> = {
  extract: runExtract,
  transform: runTransform,
  load: runLoad,
  validate: runValidate,
  sync: runSync,
  custom: runCustom,
};

export type StepState = 'pending' | 'running' | 'completed' | 'failed' | 'timed_out' | 'skipped' | 'cancelled';

export type PipelineEvent =
  | { type: 'step'; step: string; status: StepState; attempt?: number; rows?: number; result?: unknown; error?: string }
  | { type: 'retry'; step: string; attempt: number; error: string }
  | { type: 'progress'; step: string; rows: number };

export interface ExecuteOptions {
  runId: string;
  /** Scratch directory of the run: step outputs live here and are removed when the run ends. */
  runDir: string;
  signal: AbortSignal;
  logger: Logger;
  resolveDatasource(name: string): Promise<ResolvedDatasource>;
  onEvent?(event: PipelineEvent): void;
  /** Base delay of the retry backoff (tests shorten it). */
  retryDelayMs?: number;
  /** Leave the run directory for the caller to read step outputs from (and remove). */
  keepRunDir?: boolean;
}

export interface PipelineResult {
  status: 'completed' | 'failed' | 'timed_out' | 'cancelled';
  error?: string;
  steps: Map<string, { status: StepState; attempts: number; outcome?: StepOutcome; error?: string }>;
}

/**
 * Runs a pipeline plan: each step once its dependencies completed, up to `max_parallel` at once.
 * A step attempt that fails with a retriable error is retried with exponential backoff, each
 * attempt under the step's timeout. When a step fails (or times out) for good, running steps are
 * stopped and the rest are skipped; loads are atomic, so a failed run leaves targets as they were.
 * A stopped step gets `abort_grace_ms` to wind down, then it is abandoned (see runStep).
 */
export async function executePipeline(plan: PipelinePlan, options: ExecuteOptions): Promise<PipelineResult> {
  const emit = (event: PipelineEvent) => options.onEvent?.(event);
  const steps: PipelineResult['steps'] = new Map(plan.order.map((id) => [id, { status: 'pending' as StepState, attempts: 0 }]));
  const outputs = new Map<string, string>();
  const stopAll = new AbortController();
  const onCancel = () => stopAll.abort(new SluiceError('SLUICE_CANCELLED', 'the run was cancelled'));
  if (options.signal.aborted) onCancel();
  else options.signal.addEventListener('abort', onCancel, { once: true });
  const running = new Map<string, Promise<void>>();
  let failure: { status: 'failed' | 'timed_out'; message: string } | undefined;
  await mkdir(options.runDir, { recursive: true });

  const start = (id: string) => {
    const state = steps.get(id)!;
    state.status = 'running';
    emit({ type: 'step', step: id, status: 'running' });
    const task = runStep(plan, plan.steps.get(id)!, options, stopAll.signal, outputs, emit, (attempt) => (state.attempts = attempt))
      .then((outcome) => {
        state.status = 'completed';
        state.outcome = outcome;
        if (outcome.output) outputs.set(id, outcome.output);
        emit({ type: 'step', step: id, status: 'completed', attempt: state.attempts, rows: outcome.rows, result: outcome.result });
      })
      .catch((error: unknown) => {
        const status = options.signal.aborted ? 'cancelled' : endStatus(error);
        state.status = status;
        state.error = errorMessage(error);
        if (status !== 'cancelled' && failure === undefined) {
          const ended = status === 'timed_out' ? 'timed out' : 'failed';
          failure = { status, message: `step '${id}' ${ended}: ${state.error}` };
          stopAll.abort(new SluiceError('SLUICE_CANCELLED', `stopped: step '${id}' ${ended}`));
        }
        emit({ type: 'step', step: id, status: state.status, attempt: state.attempts, error: state.error });
      })
      .finally(() => running.delete(id));
    running.set(id, task);
  };

  try {
    for (;;) {
      if (!stopAll.signal.aborted) {
        for (const id of plan.order) {
          if (running.size >= plan.settings.max_parallel) break;
          const ready = steps.get(id)!.status === 'pending' && plan.steps.get(id)!.deps.every((d) => steps.get(d)!.status === 'completed');
          if (ready) start(id);
        }
      }
      if (running.size === 0) break;
      await race(running.values());
    }
  } finally {
    options.signal.removeEventListener('abort', onCancel);
  }

  const status: PipelineResult['status'] = failure?.status ?? (options.signal.aborted ? 'cancelled' : 'completed');
  for (const [id, state] of steps) {
    if (state.status !== 'pending') continue;
    state.status = status === 'cancelled' ? 'cancelled' : 'skipped';
    emit({ type: 'step', step: id, status: state.status });
  }
  if (!options.keepRunDir) await rm(options.runDir, { recursive: true, force: true });
  return {
    status,
    ...(failure !== undefined ? { error: failure.message } : status === 'cancelled' ? { error: 'the run was cancelled' } : {}),
    steps,
  };
}

/**
 * One step under its retry policy, each attempt under its time limit. An attempt's signal aborts
 * at the limit (SLUICE_STEP_TIMEOUT, retried) or when the run stops (its reason); the attempt then
 * has `abort_grace_ms` to end. One that ignores its signal is abandoned and not retried: it may
 * still hold a connection or a staged write, which the runtime never publishes for a stopped run.
 */
async function runStep(
  plan: PipelinePlan,
  step: PlannedStep,
  options: ExecuteOptions,
  stop: AbortSignal,
  outputs: Map<string, string>,
  emit: (event: PipelineEvent) => void,
  onAttempt: (attempt: number) => void,
): Promise<StepOutcome> {
  const id = step.spec.id;
  const retries = step.spec.retries ?? plan.settings.retries;
  const timeoutMs = step.spec.timeout_ms ?? plan.settings.timeout_ms;
  const graceMs = plan.settings.abort_grace_ms;
  const retryPolicy = retry(
    handleWhen((error) => !stop.aborted && (!isSluiceError(error) || error.retriable)),
    { maxAttempts: retries, backoff: new ExponentialBackoff({ initialDelay: options.retryDelayMs ?? 500, maxDelay: 30_000 }) },
  );
  const logger = options.logger.child({ run: options.runId, step: id });
  let attempt = 0;
  let inBackoff = false;
  retryPolicy.onRetry((reason) => {
    inBackoff = true;
    const error = 'error' in reason ? errorMessage(reason.error) : 'unexpected result';
    logger.warn({ attempt, error }, 'step attempt failed; retrying');
    emit({ type: 'retry', step: id, attempt, error });
  });
  const abandoned = (reason: unknown) => {
    logger.warn({ graceMs, reason: errorMessage(reason) }, 'step attempt did not stop within the grace period; abandoned');
    return new SluiceError(
      codeOf(reason) ?? 'SLUICE_CANCELLED',
      `${errorMessage(reason)}; it did not stop within ${graceMs} ms and was abandoned`,
      { retriable: false },
    );
  };

  const attempts = retryPolicy.execute(async () => {
    inBackoff = false;
    stop.throwIfAborted();
    onAttempt(++attempt);
    const limit = new AbortController();
    const timer = setTimeout(
      () => limit.abort(new SluiceError('SLUICE_STEP_TIMEOUT', `step '${id}' attempt ${attempt} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const attemptSignal = AbortSignal.any([stop, limit.signal]);
    try {
      const work = RUNNERS[step.spec.type]({
        runId: options.runId,
        step,
        settings: plan.settings,
        signal: attemptSignal,
        logger,
        runDir: options.runDir,
        outputDir: join(options.runDir, id),
        outputOf: (other) => {
          const dir = outputs.get(other);
          if (!dir)
            throw new SluiceError('SLUICE_STEP_FAILED', `step '${other}' produced no output for '${id}' to read`, { retriable: false });
          return dir;
        },
        resolveDatasource: options.resolveDatasource,
        progress: (rows) => emit({ type: 'progress', step: id, rows }),
      }).catch((error: unknown) => {
        // Whatever an attempt fails with once stopped (an aborted write, a cancelled query) is the stop.
        throw attemptSignal.aborted ? attemptSignal.reason : error;
      });
      return await settleWithinGrace(work, attemptSignal, graceMs, abandoned);
    } finally {
      clearTimeout(timer);
    }
  }, stop);
  // The backoff between attempts does not watch the signal: a stop during it ends the step at once.
  const stoppedInBackoff = new Promise<never>((_, reject) => {
    const onStop = () => inBackoff && reject(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    void attempts.finally(() => stop.removeEventListener('abort', onStop)).catch(() => undefined);
  });
  return race([attempts, stoppedInBackoff]);
}

/** How a step that threw ended: stopped by the run, out of time, or failed. */
function endStatus(error: unknown): 'cancelled' | 'timed_out' | 'failed' {
  const code = codeOf(error);
  return code === 'SLUICE_CANCELLED' ? 'cancelled' : code === 'SLUICE_STEP_TIMEOUT' ? 'timed_out' : 'failed';
}

function codeOf(error: unknown): ErrorCode | undefined {
  return isSluiceError(error) ? error.code : undefined;
}
