import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { metricsRegistry } from '../../core/metrics.js';

/** The control plane's Prometheus metrics, in a registry of their own. */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'sluice_pipeline_runs_total',
    help: 'Pipeline runs finished, by status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly refusedRuns = new Counter({
    name: 'sluice_pipeline_runs_refused_total',
    help: 'Pipeline runs not started because the pipeline was at its max_concurrent_runs, by trigger (schedule: a skipped tick; api: a 409)',
    labelNames: ['pipeline', 'trigger'],
    registers: [this.registry],
  });
  readonly activeRuns = new Gauge({ name: 'sluice_pipeline_runs_active', help: 'Pipeline runs in progress', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
  }
}

/** Times every request and serves `/metrics`: the control plane's series and the process's (runs, sync, connectors). */
export function registerMetrics(app: FastifyInstance, metrics: ControlPlaneMetrics, activeRuns: () => number): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    metrics.activeRuns.set(activeRuns());
    // Merged per scrape: connectors register their series when first loaded.
    const exposed = Registry.merge([metrics.registry, metricsRegistry]);
    reply.header('content-type', exposed.contentType);
    return exposed.metrics();
  });
}
