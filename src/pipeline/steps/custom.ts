import type { RecordBatch } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { CustomConfig } from '../step-configs.js';
import { stepOutputConnector } from '../step-output.js';
import { readOutput } from './read-output.js';
import { stopReason } from './run-step-topology.js';
import type { StepRunner } from './step-context.js';

export interface CustomStepContext {
  runId: string;
  stepId: string;
  params: Record<string, unknown>;
  /** The input step's batches, when the step has one. */
  input?: AsyncIterable<RecordBatch>;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A custom step: return an async iterable of record batches to produce an output dependents
 * can read, or a promise of a JSON-serializable result stored with the step.
 */
export type CustomStepFunction = (ctx: CustomStepContext) => AsyncIterable<RecordBatch> | Promise<unknown>;

const functions = new Map<string, CustomStepFunction>();

/** Makes a TypeScript function available to `custom` steps as `config.function: name`. */
export function registerCustomStep(name: string, fn: CustomStepFunction): void {
  functions.set(name, fn);
}

export function customStepNames(): string[] {
  return [...functions.keys()].sort();
}

/** Runs a registered function; its batches, if any, are published like any step output. */
export const runCustom: StepRunner = async (ctx) => {
  const config = ctx.step.config as CustomConfig;
  const fn = functions.get(config.function);
  if (!fn) {
    throw new SluiceError(
      'SLUICE_UNKNOWN_TYPE',
      `no custom step function '${config.function}' (registered: ${customStepNames().join(', ') || 'none'})`,
      {
        issues: [{ path: 'config.function', message: `'${config.function}' is not registered` }],
      },
    );
  }
  const produced = fn({
    runId: ctx.runId,
    stepId: ctx.step.spec.id,
    params: config.params ?? {},
    input: ctx.step.input ? readOutput(ctx.outputOf(ctx.step.input), ctx.signal) : undefined,
    signal: ctx.signal,
    logger: ctx.logger,
  });
  if (!isAsyncIterable(produced)) {
    const result = await produced;
    if (ctx.signal.aborted) throw stopReason(ctx);
    return { rows: 0, result };
  }
  const sink = stepOutputConnector.createSink!({ path: ctx.outputDir }, { node: ctx.step.spec.id, logger: ctx.logger });
  let rows = 0;
  try {
    await sink.open?.({ resuming: false, logger: ctx.logger });
    for await (const data of produced) {
      if (ctx.signal.aborted) throw stopReason(ctx);
      await sink.write({ data, meta: { stream: ctx.step.spec.id, partition: 'output', position: rows, kind: 'records' } }, ctx.signal);
      rows += data.numRows;
      ctx.progress(rows);
    }
    await sink.finish?.();
  } finally {
    await sink.close();
  }
  return { rows, output: ctx.outputDir };
};

function isAsyncIterable(value: unknown): value is AsyncIterable<RecordBatch> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
