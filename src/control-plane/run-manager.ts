import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { SluiceError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redactSecrets } from '../core/secrets.js';
import { executePipeline, type PipelineEvent } from '../pipeline/executor.js';
import { planPipeline } from '../pipeline/plan.js';
import type { RunRecord, RunStatus } from './state/run-repository.js';
import type { StateStore } from './state/state-store.js';

/** What SSE subscribers receive: executor events and the run's own transitions. */
export type RunEvent = PipelineEvent | { type: 'run'; status: RunStatus; error?: string };

interface ActiveRun {
  controller: AbortController;
  events: EventEmitter;
  done: Promise<void>;
}

export interface RunManagerOptions {
  state: StateStore;
  /** Run scratch directories (step outputs) go under `<workDir>/runs`. */
  workDir: string;
  logger: Logger;
  retryDelayMs?: number;
  onFinished?(status: RunStatus): void;
  /** A start refused because the pipeline is at its `max_concurrent_runs`; trigger is `schedule` or `api`. */
  onRefused?(pipelineId: string, trigger: string): void;
}

/** A start refused because the pipeline already has `max_concurrent_runs` runs in progress. */
export class RunLimitReached extends SluiceError {
  constructor(pipelineId: string, limit: number, active: string[]) {
    const runs = active.length === 1 ? 'a run' : `${active.length} runs`;
    super(
      'SLUICE_CONFLICT',
      `pipeline '${pipelineId}' already has ${runs} in progress (${active.join(', ')}); wait for it to end or cancel it`,
      {
        issues: [
          {
            path: 'params.pipeline_id',
            message: `max_concurrent_runs is ${limit}; ${active.length} run${active.length === 1 ? '' : 's'} active`,
          },
        ],
      },
    );
  }
}

/**
 * Pipeline runs as background jobs: each start records the run, then executes it while every
 * step transition is written to the state database (so status survives a restart) and
 * broadcast to live subscribers.
 */
export class RunManager {
  private readonly active = new Map<string, ActiveRun>();
  /** Set by shutdown(): runs stopped from here on were interrupted, not cancelled by a user. */
  private stopping = false;

  constructor(private readonly options: RunManagerOptions) {}

  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Records a run of the pipeline's current version and starts it in the background. Throws
   * RunLimitReached (409) when the pipeline already has `max_concurrent_runs` runs in progress:
   * the state database decides, so two control planes cannot both start one.
   */
  async start(pipelineId: string, trigger: string): Promise<RunRecord> {
    const { state, logger } = this.options;
    const pipeline = await state.pipelines.require(pipelineId);
    const plan = planPipeline(pipeline.document);
    const runId = randomUUID();
    const limit = plan.settings.max_concurrent_runs;
    const recorded = await state.runs.createWithinLimit(
      { run_id: runId, pipeline_id: pipelineId, version: pipeline.version, trigger },
      plan.order,
      limit,
    );
    if (!recorded.created) {
      const kind = trigger.split(':')[0];
      logger.warn(
        { pipeline: pipelineId, trigger, active: recorded.active, limit },
        kind === 'schedule' ? 'scheduled run skipped: the pipeline is at its run limit' : 'run refused: the pipeline is at its run limit',
      );
      this.options.onRefused?.(pipelineId, kind);
      throw new RunLimitReached(pipelineId, limit, recorded.active);
    }
    const controller = new AbortController();
    const events = new EventEmitter();
    events.setMaxListeners(0);
    const runLogger = logger.child({ run: runId, pipeline: pipelineId });
    let writes = Promise.resolve();
    // Step updates are written in the order they happened, never concurrently.
    const persist = (write: () => Promise<void>) => {
      writes = writes.then(write).catch((error: unknown) => runLogger.error({ err: error }, 'recording run state failed'));
    };
    const publish = (event: RunEvent) => events.emit('event', redactSecrets(event));

    const done = (async () => {
      persist(() => state.runs.setStatus(runId, 'running'));
      publish({ type: 'run', status: 'running' });
      let status: RunStatus = 'failed';
      let error: string | undefined;
      try {
        const result = await executePipeline(plan, {
          runId,
          runDir: join(this.options.workDir, 'runs', runId),
          signal: controller.signal,
          logger: runLogger,
          retryDelayMs: this.options.retryDelayMs,
          resolveDatasource: (name) => state.datasources.resolve(name),
          onEvent: (event) => {
            publish(event);
            if (event.type === 'step') {
              const stepStatus = this.stopping && event.status === 'cancelled' ? 'interrupted' : event.status;
              persist(() =>
                state.runs.setStep(runId, event.step, {
                  status: stepStatus,
                  attempts: event.attempt,
                  rows_out: event.rows,
                  result: event.result,
                  error: redactSecrets(event.error) as string | undefined,
                }),
              );
            }
          },
        });
        status = this.stopping && result.status === 'cancelled' ? 'interrupted' : result.status;
        error = status === 'interrupted' ? 'the server stopped while the run was in progress' : result.error;
      } catch (failure) {
        error = errorMessage(failure);
        runLogger.error({ err: failure }, 'run failed');
      }
      persist(() => state.runs.setStatus(runId, status, redactSecrets(error) as string | undefined));
      await writes;
      runLogger.info({ status }, 'run finished');
      this.options.onFinished?.(status);
      publish({ type: 'run', status, ...(error ? { error } : {}) });
      this.active.delete(runId);
      events.emit('end');
    })();
    this.active.set(runId, { controller, events, done });
    return (await state.runs.get(runId))!;
  }

  /** A cron tick: a pipeline at its run limit skips the tick (logged and counted by start). */
  async startScheduled(pipelineId: string): Promise<void> {
    await this.start(pipelineId, 'schedule').catch((error: unknown) => {
      if (!(error instanceof RunLimitReached)) throw error;
    });
  }

  /** Cancels a run in progress, waiting at most its `abort_grace_ms`; a finished run cannot be cancelled. */
  async cancel(runId: string): Promise<void> {
    const run = this.active.get(runId);
    if (run) {
      run.controller.abort();
      await run.done;
      return;
    }
    const stored = await this.options.state.runs.get(runId);
    if (!stored) throw runNotFound(runId);
    throw new SluiceError('SLUICE_CONFLICT', `run ${runId} is already ${stored.status}`, {
      issues: [{ path: 'params.run_id', message: `run is ${stored.status}` }],
    });
  }

  /** Listens to a run in progress; returns undefined when the run is not active. */
  subscribe(runId: string, onEvent: (event: RunEvent) => void, onEnd: () => void): (() => void) | undefined {
    const run = this.active.get(runId);
    if (!run) return undefined;
    run.events.on('event', onEvent);
    run.events.once('end', onEnd);
    return () => {
      run.events.off('event', onEvent);
      run.events.off('end', onEnd);
    };
  }

  /** Waits for a run in progress to finish (tests, shutdown). */
  async wait(runId: string): Promise<void> {
    await this.active.get(runId)?.done;
  }

  /** Stops every run in progress, recording them as interrupted, and waits for that to be stored. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const run of this.active.values()) run.controller.abort();
    await Promise.all([...this.active.values()].map((r) => r.done));
  }
}

export function runNotFound(runId: string): SluiceError {
  return new SluiceError('SLUICE_NOT_FOUND', `no run ${runId}`, { issues: [{ path: 'params.run_id', message: 'run not found' }] });
}
