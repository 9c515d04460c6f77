import type { CompiledTopology } from '../topology/compile.js';

export interface NodeCounts {
  node: string;
  kind: 'source' | 'transform' | 'sink';
  type: string;
  /** Records that entered the node (for a source: records read, good or not). */
  rowsIn: number;
  rowsOut: number;
  filtered: number;
  deadLettered: number;
  batches: number;
}

export interface RunSummary {
  topology: string;
  status: 'completed' | 'stopped' | 'failed';
  startedAt: string;
  durationMs: number;
  /** True when the run picked up from stored checkpoints. */
  resumed: boolean;
  nodes: NodeCounts[];
  deadLettered: number;
  error?: string;
}

/** Live counters of a run, read by progress displays and turned into the final summary. */
export class RunMetrics {
  readonly nodes = new Map<string, NodeCounts>();
  readonly startedAt = Date.now();
  /** Latest progress each source partition reported, keyed by checkpoint key. */
  readonly progress = new Map<string, { done: number; total: number }>();

  constructor(topology: CompiledTopology) {
    for (const name of topology.order) {
      const node = topology.nodes.get(name)!;
      this.nodes.set(name, {
        node: name,
        kind: node.kind,
        type: node.type,
        rowsIn: 0,
        rowsOut: 0,
        filtered: 0,
        deadLettered: 0,
        batches: 0,
      });
    }
  }

  of(node: string): NodeCounts {
    return this.nodes.get(node)!;
  }

  /** Records read by all sources so far. */
  get recordsRead(): number {
    let total = 0;
    for (const n of this.nodes.values()) if (n.kind === 'source') total += n.rowsIn;
    return total;
  }

  /** Fraction of all partitions' known totals read so far, or undefined when no source knows. */
  get fractionDone(): number | undefined {
    let done = 0;
    let total = 0;
    for (const p of this.progress.values()) {
      done += p.done;
      total += p.total;
    }
    return total > 0 ? Math.min(1, done / total) : undefined;
  }

  get deadLettered(): number {
    let total = 0;
    for (const n of this.nodes.values()) total += n.deadLettered;
    return total;
  }

  summary(topology: string, status: RunSummary['status'], resumed: boolean, error?: string): RunSummary {
    return {
      topology,
      status,
      startedAt: new Date(this.startedAt).toISOString(),
      durationMs: Date.now() - this.startedAt,
      resumed,
      nodes: [...this.nodes.values()].map((n) => ({ ...n })),
      deadLettered: this.deadLettered,
      ...(error ? { error } : {}),
    };
  }
}
