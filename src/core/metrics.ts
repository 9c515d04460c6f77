import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process's Prometheus registry: runtime, connectors and the control plane register here. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'sluice_process_' });
