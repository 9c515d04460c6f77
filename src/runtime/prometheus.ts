import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../core/metrics.js';
import type { RunMetrics } from './run-metrics.js';

const FIELDS = ['rowsIn', 'rowsOut', 'filtered', 'deadLettered', 'batches'] as const;
const DIRECTION: Record<(typeof FIELDS)[number], string> = {
  rowsIn: 'in',
  rowsOut: 'out',
  filtered: 'filtered',
  deadLettered: 'dead_lettered',
  batches: 'batches',
};

/** Runs being observed, with the counts already reported to Prometheus. */
const active = new Map<RunMetrics, { topology: string; reported: Map<string, number> }>();

function report(metrics: RunMetrics, state: { topology: string; reported: Map<string, number> }): void {
  for (const node of metrics.nodes.values()) {
    for (const field of FIELDS) {
      const key = `${node.node}:${field}`;
      const delta = node[field] - (state.reported.get(key) ?? 0);
      if (delta <= 0) continue;
      state.reported.set(key, node[field]);
      const labels = { topology: state.topology, node: node.node, kind: node.kind };
      if (field === 'batches') batchesTotal.inc(labels, delta);
      else rowsTotal.inc({ ...labels, direction: DIRECTION[field] }, delta);
    }
  }
}

const rowsTotal = new Counter({
  name: 'sluice_node_rows_total',
  help: 'Rows through each topology node, by direction (in, out, filtered, dead_lettered).',
  labelNames: ['topology', 'node', 'kind', 'direction'],
  registers: [metricsRegistry],
  collect() {
    for (const [metrics, state] of active) report(metrics, state);
  },
});

const batchesTotal = new Counter({
  name: 'sluice_node_batches_total',
  help: 'Batches through each topology node.',
  labelNames: ['topology', 'node', 'kind'],
  registers: [metricsRegistry],
});

new Gauge({
  name: 'sluice_running_topologies',
  help: 'Topology runs in progress in this process.',
  registers: [metricsRegistry],
  collect() {
    this.set(active.size);
  },
});

/**
 * Exposes a run's live counters as Prometheus counters, read at scrape time (no work per batch).
 * Returns the function that ends the observation, reporting the final counts.
 */
export function observeRun(topology: string, metrics: RunMetrics): () => void {
  const state = { topology, reported: new Map<string, number>() };
  active.set(metrics, state);
  return () => {
    report(metrics, state);
    active.delete(metrics);
  };
}
