import type { Logger } from '../../core/logger.js';
import type { PipelineSettings } from '../pipeline-schema.js';
import type { PlannedStep } from '../plan.js';

export interface ResolvedDatasource {
  type: string;
  config: Record<string, unknown>;
}

/** What a step attempt gets from the executor. */
export interface StepContext {
  runId: string;
  step: PlannedStep;
  settings: PipelineSettings;
  /**
   * Aborted when the attempt must stop: its reason is the SluiceError it ends with (cancelled, or
   * the attempt's timeout). Passed to every sink write; after the run's `abort_grace_ms` an attempt
   * still running is abandoned.
   */
  signal: AbortSignal;
  logger: Logger;
  /** Directory where this step publishes its output (Arrow IPC parts). */
  outputDir: string;
  /** Published output directory of another step of the run. */
  outputOf(stepId: string): string;
  /** Where this attempt may write scratch files (dead letters). */
  runDir: string;
  resolveDatasource(name: string): Promise<ResolvedDatasource>;
  /** Reports rows produced so far, for live progress. */
  progress(rows: number): void;
}

export interface StepOutcome {
  /** Rows in the step's output (or rows written to the target by a load). */
  rows: number;
  /** Directory of the output dependents read; a validate step passes its input through. */
  output?: string;
  /** JSON result stored with the step (validation report, custom function result...). */
  result?: unknown;
}

export type StepRunner = (ctx: StepContext) => Promise<StepOutcome>;
