import type { ErrorIssue } from '../core/errors.js';
import type { CompiledNode, CompiledSinkNode, CompiledSourceNode } from './compile.js';

/**
 * A sink that commits its sources' positions inside its own writes (Kafka exactly-once) makes
 * those positions the only ones the sources resume from; the runtime's checkpoint, which waits
 * for every sink and for rows held in windows, is ignored. So, for each such source:
 *
 * - it feeds that sink and no other: another sink would miss what it had not acknowledged at a
 *   crash. (Resuming from the older of both positions instead would write again into the
 *   exactly-once sink what its transactions already committed: duplicates, the very thing it
 *   exists to prevent.)
 * - no transform between them holds rows across batches: the position committed with a batch
 *   would pass rows still held in a window, and a crash would lose them.
 */
export function checkSinkCommittedPositions(nodes: Map<string, CompiledNode>, issues: ErrorIssue[]): void {
  const all = [...nodes.values()];
  const sources = all.filter((n): n is CompiledSourceNode => n.kind === 'source');
  for (const sink of all.filter((n): n is CompiledSinkNode => n.kind === 'sink')) {
    const commits = sink.connector.commitsSourcePositions;
    if (!commits) continue;
    const feedingSink = upstreamOf(sink, nodes);
    for (const source of sources) {
      if (source.connector !== sink.connector || !commits(sink.config, { node: source.name, config: source.config })) continue;
      const reached = downstreamOf(source, nodes);
      if (!reached.has(sink.name)) {
        issues.push({
          path: `nodes.${source.name}`,
          message: `sink '${sink.name}' commits this source's positions inside its writes (exactly-once) but is not fed by it; name in that sink the consumer group of the source that feeds it`,
        });
        continue;
      }
      for (const name of reached) {
        const node = nodes.get(name)!;
        if (node.kind === 'sink' && node !== sink) {
          issues.push({
            path: `nodes.${name}.inputs`,
            message:
              `source '${source.name}' resumes from the positions exactly-once sink '${sink.name}' commits, so this sink would lose ` +
              `what it had not written at a crash; read for it with a separate source (its own consumer group)`,
          });
        }
        if (node.kind === 'transform' && feedingSink.has(name) && node.transform.holdsRows?.(node.config)) {
          issues.push({
            path: `nodes.${name}`,
            message:
              `'${node.type}' holds rows across batches, so the positions exactly-once sink '${sink.name}' commits would pass rows ` +
              `not yet written, lost at a crash; write its results without exactly_once`,
          });
        }
      }
    }
  }
}

function downstreamOf(node: CompiledNode, nodes: Map<string, CompiledNode>): Set<string> {
  return closure(node, (n) => n.outputs, nodes);
}

function upstreamOf(node: CompiledNode, nodes: Map<string, CompiledNode>): Set<string> {
  return closure(node, (n) => n.inputs, nodes);
}

/** Names reachable from `start` (excluded) along `next`; terminates on cycles, which compile reports. */
function closure(start: CompiledNode, next: (n: CompiledNode) => string[], nodes: Map<string, CompiledNode>): Set<string> {
  const seen = new Set<string>();
  const pending = [...next(start)];
  while (pending.length > 0) {
    const name = pending.pop()!;
    const node = nodes.get(name);
    if (seen.has(name) || !node) continue;
    seen.add(name);
    pending.push(...next(node));
  }
  return seen;
}
