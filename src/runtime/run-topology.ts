import { from, lastValueFrom, merge, mergeMap, type Observable } from 'rxjs';
import type { Batch } from '../core/batch.js';
import type { DeadLetter } from '../core/dead-letter.js';
import { errorMessage } from '../core/errors.js';
import { logger as rootLogger, type Logger } from '../core/logger.js';
import type { CheckpointStore, Source } from '../core/ports.js';
import { createCheckpointStore } from '../state/create-checkpoint-store.js';
import type { CompiledSourceNode, CompiledTopology } from '../topology/compile.js';
import { DeadLetterWriter } from './dead-letter-writer.js';
import { checkpointKey, partitionPipeline, type PartitionRun } from './partition-pipeline.js';
import { ReliableSink } from './reliable-sink.js';
import { observeRun } from './prometheus.js';
import { RunMetrics, type RunSummary } from './run-metrics.js';

export interface RunOptions {
  /** Abort to stop gracefully: sources stop reading, in-flight batches drain, positions are stored. */
  signal?: AbortSignal;
  /** Abort to stop now: given to every sink write, it aborts writes in progress and refuses new ones. */
  writeSignal?: AbortSignal;
  logger?: Logger;
  /** Overrides the store named by the topology (tests, embedding). */
  checkpoints?: CheckpointStore;
  /** Called once the run has started, with its live counters (for progress displays). */
  onStart?: (metrics: RunMetrics) => void;
}

/**
 * Runs a compiled topology until its sources complete (bounded) or the signal aborts (unbounded).
 * A bounded run that completes removes its checkpoints (the next run starts over); a stopped or
 * failed run keeps them, and the next run resumes from them.
 */
export async function runTopology(topology: CompiledTopology, options: RunOptions = {}): Promise<RunSummary> {
  const signal = options.signal ?? new AbortController().signal;
  const logger = (options.logger ?? rootLogger).child({ topology: topology.name });
  const checkpoints = options.checkpoints ?? createCheckpointStore(topology.checkpoint);
  const metrics = new RunMetrics(topology);
  const endObservation = observeRun(topology.name, metrics);
  const sources = new Map<string, Source>();
  const sinks = new Map<string, ReliableSink>();
  let resumed = false;
  let deadLetters: DeadLetterWriter | undefined;

  try {
    const stored = await checkpoints.list(topology.name);
    resumed = Object.keys(stored).length > 0;
    for (const node of topology.sources) {
      sources.set(node.name, node.connector.createSource!(node.config, { node: node.name, logger: logger.child({ node: node.name }) }));
    }
    for (const node of [...topology.nodes.values(), topology.deadLetter]) {
      if (node.kind !== 'sink') continue;
      const sink = new ReliableSink(
        node.name,
        node.connector.createSink!(node.config, { node: node.name, logger: logger.child({ node: node.name }) }),
        topology.settings.sink_retries,
        options.writeSignal,
      );
      const name = node.name;
      const deadLetter = async (batch: Batch, letters: DeadLetter[]): Promise<void> => {
        await deadLetters!.write(batch, letters);
        metrics.of(name).deadLettered += letters.length;
      };
      const resumeKey = checkpoints.durable === false ? undefined : `${topology.name}/${name}`;
      await sink.open({ resuming: resumed, resumeKey, logger }, name === topology.deadLetter.name ? undefined : deadLetter);
      sinks.set(node.name, sink);
    }
    // Sinks only dead-letter while writing, after this is set.
    deadLetters = new DeadLetterWriter(topology.name, sinks.get(topology.deadLetter.name)!);
    logger.info({ resumed, partitions: Object.keys(stored).length }, resumed ? 'resuming from checkpoints' : 'starting');
    options.onStart?.(metrics);

    const runs: PartitionRun[] = [];
    for (const node of topology.sources) {
      const source = sources.get(node.name)!;
      for (const partition of await source.partitions()) {
        const from = stored[checkpointKey(node.name, partition)];
        runs.push({ topology, sourceNode: node, source, partition, from, sinks, deadLetters, checkpoints, metrics, signal, logger });
      }
    }
    await lastValueFrom(allPartitions(runs, topology.settings.partition_concurrency), { defaultValue: undefined });

    const status = signal.aborted ? 'stopped' : 'completed';
    if (status === 'completed') for (const sink of sinks.values()) await sink.finish();
    if (status === 'completed' && !topology.sources.some((s: CompiledSourceNode) => s.unbounded)) {
      for (const key of Object.keys(await checkpoints.list(topology.name))) await checkpoints.delete(topology.name, key);
    }
    const summary = metrics.summary(topology.name, status, resumed);
    logger.info({ durationMs: summary.durationMs, deadLettered: summary.deadLettered }, `run ${status}`);
    return summary;
  } catch (error) {
    logger.error({ err: error }, 'run failed');
    return metrics.summary(topology.name, 'failed', resumed, errorMessage(error));
  } finally {
    endObservation();
    await closeAll(logger, [...sinks.values()], [...sources.values()]);
    if (!options.checkpoints) await checkpoints.close();
  }
}

/** Bounded partitions a few at a time; unbounded ones all at once (none of them ever finishes). */
function allPartitions(runs: PartitionRun[], concurrency: number): Observable<never> {
  const bounded = runs.filter((r) => !r.sourceNode.unbounded);
  const unbounded = runs.filter((r) => r.sourceNode.unbounded);
  return merge(from(bounded).pipe(mergeMap((r) => partitionPipeline(r), concurrency)), ...unbounded.map((r) => partitionPipeline(r)));
}

async function closeAll(logger: Logger, ...groups: Array<Array<{ close(): Promise<void> }>>): Promise<void> {
  for (const group of groups) {
    const results = await Promise.allSettled(group.map((c) => c.close()));
    for (const r of results) if (r.status === 'rejected') logger.warn({ err: r.reason }, 'close failed');
  }
}
