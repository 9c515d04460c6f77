import {
  concat,
  concatMap,
  connectable,
  defer,
  EMPTY,
  finalize,
  fromEvent,
  ignoreElements,
  map,
  merge,
  type Observable,
  race,
  share,
  Subject,
  type Subscription,
  takeUntil,
  tap,
} from 'rxjs';
import type { Batch, Position } from '../core/batch.js';
import { Credits } from '../core/flow-control.js';
import type { CheckpointStore, Source } from '../core/ports.js';
import type { Logger } from '../core/logger.js';
import type { CompiledSourceNode, CompiledTopology } from '../topology/compile.js';
import { AckTracker } from './ack-tracker.js';
import type { DeadLetterWriter } from './dead-letter-writer.js';
import type { ReliableSink } from './reliable-sink.js';
import { retriablePolicy } from './retry-policy.js';
import type { RunMetrics } from './run-metrics.js';
import { stopAware } from './stop-aware.js';

export interface PartitionRun {
  topology: CompiledTopology;
  sourceNode: CompiledSourceNode;
  source: Source;
  partition: string;
  from: Position | undefined;
  sinks: Map<string, ReliableSink>;
  deadLetters: DeadLetterWriter;
  checkpoints: CheckpointStore;
  metrics: RunMetrics;
  signal: AbortSignal;
  logger: Logger;
}

/** The checkpoint key of a source partition: positions are per source node and partition. */
export function checkpointKey(sourceNode: string, partition: string): string {
  return `${sourceNode}/${partition}`;
}

/**
 * One source partition through the DAG: the source's batches get a seq, fan out along every route
 * to the sinks, and each sink acknowledgement feeds the ack tracker, which checkpoints and then
 * tells the source to commit (retried per `checkpoint_retries`; a commit that still fails fails the
 * partition at once). Completes when the source completes and every batch is through, the last
 * position checkpointed; or, when the run is stopped, once what was in flight has drained: a stop
 * is not an end of input, so transforms are not completed (see `stopAware`) and the checkpoint
 * stays at the retention marks of what they hold.
 */
export function partitionPipeline(run: PartitionRun): Observable<never> {
  return defer(() => {
    const { topology, sourceNode, source, partition } = run;
    const logger = run.logger.child({ node: sourceNode.name, partition });
    const credits = new Credits(topology.settings.max_in_flight);
    const key = checkpointKey(sourceNode.name, partition);
    const routes = reachableSinks(topology, sourceNode.name);
    const commitPolicy = retriablePolicy(topology.settings.checkpoint_retries);
    const tracker = new AckTracker(routes.length, credits, (position) =>
      commitPolicy.execute(async () => {
        await run.checkpoints.put(topology.name, key, position);
        await source.commit(partition, position);
      }),
    );
    const stop$ = run.signal.aborted ? defer(() => [true]) : fromEvent(run.signal, 'abort');
    // Whether the read ended because the run was stopped (decided once, when it ends).
    let stopped = false;

    const sourceCounts = run.metrics.of(sourceNode.name);
    const read$ = source
      .read(partition, run.from, { flow: credits, signal: run.signal, logger, batchSize: topology.settings.batch_size })
      .pipe(
        takeUntil(stop$),
        tap({ complete: () => (stopped = run.signal.aborted) }),
        map((batch): Batch => {
          const deadCount = batch.meta.deadLetters?.length ?? 0;
          sourceCounts.rowsIn += batch.data.numRows + deadCount;
          sourceCounts.rowsOut += batch.data.numRows;
          sourceCounts.batches++;
          if (batch.meta.progress) run.metrics.progress.set(key, batch.meta.progress);
          return { data: batch.data, meta: { ...batch.meta, seq: tracker.register(batch.meta.position) } };
        }),
        concatMap((batch) => settleDeadLetters(run, sourceNode.name, batch)),
      );
    const shared = connectable(read$, { connector: () => new Subject<Batch>(), resetOnDisconnect: false });

    const streams = new Map<string, Observable<Batch>>([[sourceNode.name, shared]]);
    const acks: Observable<never>[] = [];
    for (const name of topology.order) {
      const node = topology.nodes.get(name)!;
      if (node.kind === 'source') continue;
      const inputs = node.inputs.filter((i) => streams.has(i)).map((i) => streams.get(i)!);
      if (inputs.length === 0) continue;
      const input$ = inputs.length === 1 ? inputs[0] : merge(...inputs);
      const counts = run.metrics.of(name);
      if (node.kind === 'transform') {
        const operator = node.transform.create(node.config as never, {
          node: name,
          logger: logger.child({ node: name }),
          unbounded: sourceNode.unbounded,
        });
        const output$ = input$.pipe(
          tap((b) => {
            counts.rowsIn += b.data.numRows;
            counts.batches++;
          }),
          stopAware(operator, () => stopped),
          concatMap((b) => settleDeadLetters(run, name, b)),
          tap((b) => {
            counts.rowsOut += b.data.numRows;
            if (!node.transform.reshapes) counts.filtered = Math.max(0, counts.rowsIn - counts.rowsOut - counts.deadLettered);
          }),
          share(),
        );
        streams.set(name, output$);
      } else {
        const sink = run.sinks.get(name)!;
        const route = routes.indexOf(name);
        acks.push(
          input$.pipe(
            concatMap(async (b) => {
              counts.rowsIn += b.data.numRows;
              counts.batches++;
              const dead = b.data.numRows > 0 ? await sink.write(b) : 0;
              counts.rowsOut += b.data.numRows - dead;
              tracker.ack(route, b.meta.seq, b.meta.retainedFrom);
            }),
            ignoreElements(),
          ),
        );
      }
    }

    const all$ = merge(...acks);
    let connection: Subscription | undefined;
    const connect$ = defer(() => {
      connection = shared.connect();
      return EMPTY;
    });
    return concat(
      // Ends when every route has, or fails as soon as a commit fails for good; either way the read is
      // ended too, since after a failed commit the source may wait for a credit that never comes.
      race(merge(all$, connect$), tracker.failed$).pipe(finalize(() => connection?.unsubscribe())),
      defer(async () => {
        await (stopped ? tracker.stop() : tracker.complete());
        logger.debug({ stopped }, 'partition done');
      }).pipe(ignoreElements()),
    );
  });
}

async function settleDeadLetters(run: PartitionRun, node: string, batch: Batch): Promise<Batch> {
  const deadLetters = batch.meta.deadLetters;
  if (!deadLetters || deadLetters.length === 0) return batch;
  await run.deadLetters.write(batch, deadLetters);
  run.metrics.of(node).deadLettered += deadLetters.length;
  return { data: batch.data, meta: { ...batch.meta, deadLetters: undefined } };
}

/** Sink nodes downstream of a node, in topology order: one acknowledgement route each. */
export function reachableSinks(topology: CompiledTopology, from: string): string[] {
  const seen = new Set<string>();
  const walk = (name: string) => {
    for (const next of topology.nodes.get(name)?.outputs ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        walk(next);
      }
    }
  };
  walk(from);
  return topology.order.filter((n) => seen.has(n) && topology.nodes.get(n)!.kind === 'sink');
}
