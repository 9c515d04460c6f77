import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../core/metrics.js';
import type { SyncRun } from './sync-run.js';

const rows = new Counter({
  name: 'sluice_sync_rows_total',
  help: 'Rows handled by sync runs, by rule and outcome (read, inserted, updated, deleted, unchanged).',
  labelNames: ['rule', 'outcome'],
  registers: [metricsRegistry],
});

const runs = new Counter({
  name: 'sluice_sync_runs_total',
  help: 'Finished sync runs by rule and status.',
  labelNames: ['rule', 'status'],
  registers: [metricsRegistry],
});

const conflicts = new Counter({
  name: 'sluice_sync_conflicts_total',
  help: 'Keys changed on both sides of a bidirectional sync.',
  labelNames: ['rule'],
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'sluice_sync_run_seconds',
  help: 'Duration of sync runs.',
  labelNames: ['rule'],
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  registers: [metricsRegistry],
});

const stateKeys = new Gauge({
  name: 'sluice_sync_state_keys',
  help: 'Keys in the keyed state of a sync rule after its last run.',
  labelNames: ['rule'],
  registers: [metricsRegistry],
});

/** Reports a finished run to Prometheus. */
export function observeSyncRun(run: SyncRun): void {
  const rule = run.rule_id;
  runs.inc({ rule, status: run.status });
  for (const outcome of ['read', 'inserted', 'updated', 'deleted', 'unchanged'] as const)
    rows.inc({ rule, outcome }, run[`rows_${outcome}`]);
  conflicts.inc({ rule }, run.conflicts);
  duration.observe({ rule }, (run.duration_ms ?? 0) / 1000);
  if (run.state_keys !== undefined) stateKeys.set({ rule }, run.state_keys);
}
