import { join } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import { runTopology } from '../../runtime/run-topology.js';
import { compileTopology } from '../../topology/compile.js';
import type { NodeSpec } from '../../topology/schema.js';
import { MemoryCheckpointStore } from '../../state/memory-checkpoint-store.js';
import type { StepContext } from './step-context.js';

/**
 * Runs a step as a bounded topology on the streaming runtime and returns the rows that reached
 * `sinkNode`. The step's signal stops reading and aborts sink writes in progress. A failed run
 * throws a retriable error; a run stopped by the step's signal throws the reason (cancel or timeout).
 */
export async function runStepTopology(ctx: StepContext, nodes: Record<string, NodeSpec>, sinkNode: string): Promise<number> {
  let topology;
  try {
    topology = compileTopology(
      {
        name: `${ctx.runId}.${ctx.step.spec.id}`,
        settings: { batch_size: ctx.settings.batch_size, sink_retries: 0 },
        dead_letter: { type: 'file', config: { path: join(ctx.runDir, `${ctx.step.spec.id}.dead-letter.ndjson`), format: 'ndjson' } },
        nodes,
      },
      { envRefs: 'refuse' },
    );
  } catch (error) {
    if (error instanceof SluiceError) {
      throw new SluiceError('SLUICE_CONFIG_INVALID', `step '${ctx.step.spec.id}': ${error.message}`, {
        issues: error.issues,
        cause: error,
      });
    }
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  const summary = await runTopology(topology, {
    signal: ctx.signal,
    writeSignal: ctx.signal,
    logger: ctx.logger,
    checkpoints: new MemoryCheckpointStore(),
    onStart: (metrics) => {
      timer = setInterval(() => ctx.progress(metrics.of(sinkNode).rowsIn), 250);
    },
  }).finally(() => clearInterval(timer));
  // Once stopped, a failure (an aborted write) is the stop's consequence, not the step's error.
  if (summary.status === 'stopped' || (summary.status === 'failed' && ctx.signal.aborted)) throw stopReason(ctx);
  if (summary.status === 'failed') {
    throw new SluiceError('SLUICE_STEP_FAILED', `step '${ctx.step.spec.id}' failed: ${summary.error ?? 'unknown error'}`);
  }
  const rows = summary.nodes.find((n) => n.node === sinkNode)?.rowsIn ?? 0;
  ctx.progress(rows);
  return rows;
}

/** The error a step stopped by its signal ends with: the reason the executor aborted it with. */
export function stopReason(ctx: StepContext): SluiceError {
  const reason: unknown = ctx.signal.reason;
  return reason instanceof SluiceError
    ? reason
    : new SluiceError('SLUICE_CANCELLED', `step '${ctx.step.spec.id}' was stopped`, { cause: reason });
}
