import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExponentialBackoff, TimeoutStrategy, handleWhen, retry, timeout, wrap } from 'cockatiel';
import { SluiceError, errorMessage, isSluiceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { race } from '../core/race.js';
import './step-output.js';
import type { StepType } from './pipeline-schema.js';
import type { PipelinePlan, PlannedStep } from './plan.js';
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

export type StepState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';

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
  status: 'completed' | 'failed' | 'cancelled';
  error?: string;
  steps: Map<string, { status: StepState; attempts: number; outcome?: StepOutcome; error?: string }>;
}

/**
 * Runs a pipeline plan: each step once its dependencies completed, up to `max_parallel` at once.
 * A step attempt that fails with a retriable error is retried with exponential backoff, each
 * attempt under the step's timeout. When a step fails for good, running steps are stopped and
 * the rest are skipped; loads are atomic, so a failed run leaves targets as they were.
 */
export async function executePipeline(plan: PipelinePlan, options: ExecuteOptions): Promise<PipelineResult> {
  const emit = (event: PipelineEvent) => options.onEvent?.(event);
  const steps: PipelineResult['steps'] = new Map(plan.order.map((id) => [id, { status: 'pending' as StepState, attempts: 0 }]));
  const outputs = new Map<string, string>();
  const stopAll = new AbortController();
  const onCancel = () => stopAll.abort();
  options.signal.addEventListener('abort', onCancel, { once: true });
  const running = new Map<string, Promise<void>>();
  let failure: string | undefined;
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
        const cancelled = options.signal.aborted || (isSluiceError(error) && error.code === 'SLUICE_CANCELLED');
        state.status = cancelled ? 'cancelled' : 'failed';
        state.error = errorMessage(error);
        if (!cancelled && failure === undefined) {
          failure = `step '${id}' failed: ${state.error}`;
          stopAll.abort();
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

  const status: PipelineResult['status'] = failure !== undefined ? 'failed' : options.signal.aborted ? 'cancelled' : 'completed';
  for (const [id, state] of steps) {
    if (state.status !== 'pending') continue;
    state.status = status === 'cancelled' ? 'cancelled' : 'skipped';
    emit({ type: 'step', step: id, status: state.status });
  }
  if (!options.keepRunDir) await rm(options.runDir, { recursive: true, force: true });
  return { status, ...(failure !== undefined ? { error: failure } : status === 'cancelled' ? { error: 'the run was cancelled' } : {}), steps };
}

/** One step under its retry and timeout policy. */
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
  const retryPolicy = retry(
    handleWhen((error) => !stop.aborted && (!isSluiceError(error) || error.retriable)),
    { maxAttempts: retries, backoff: new ExponentialBackoff({ initialDelay: options.retryDelayMs ?? 500, maxDelay: 30_000 }) },
  );
  const policy = wrap(retryPolicy, timeout(step.spec.timeout_ms ?? plan.settings.timeout_ms, TimeoutStrategy.Cooperative));
  const logger = options.logger.child({ run: options.runId, step: id });
  let attempt = 0;
  retryPolicy.onRetry((reason) => {
    const error = 'error' in reason ? errorMessage(reason.error) : 'unexpected result';
    logger.warn({ attempt, error }, 'step attempt failed; retrying');
    emit({ type: 'retry', step: id, attempt, error });
  });
  return policy.execute(async ({ signal }) => {
    onAttempt(++attempt);
    return RUNNERS[step.spec.type]({
      runId: options.runId,
      step,
      settings: plan.settings,
      signal,
      runSignal: options.signal,
      logger,
      runDir: options.runDir,
      outputDir: join(options.runDir, id),
      outputOf: (other) => {
        const dir = outputs.get(other);
        if (!dir) throw new SluiceError('SLUICE_STEP_FAILED', `step '${other}' produced no output for '${id}' to read`, { retriable: false });
        return dir;
      },
      resolveDatasource: options.resolveDatasource,
      progress: (rows) => emit({ type: 'progress', step: id, rows }),
    });
  }, stop);
}
