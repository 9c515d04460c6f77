import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../core/metrics.js';

/**
 * What a connector connects to: its type and the endpoint, without credentials
 * (`127.0.0.1:5432/orders`, `broker-1:9092,broker-2:9092`). Labels the connection metrics and
 * keys the circuit breaker, so every node of a process talking to one server shares both.
 */
export interface Datasource {
  connector: string;
  name: string;
}

const LABELS = ['connector', 'datasource'] as const;

const active = new Gauge({
  name: 'sluice_connector_connections_active',
  help: 'Open connections (or connected clients) to each datasource.',
  labelNames: LABELS,
  registers: [metricsRegistry],
});
const utilization = new Gauge({
  name: 'sluice_connector_pool_utilization_ratio',
  help: 'Pooled connections in use over the pool size, per datasource (0 to 1).',
  labelNames: LABELS,
  registers: [metricsRegistry],
});
const connectTime = new Histogram({
  name: 'sluice_connector_connect_duration_seconds',
  help: 'Time to open a connection to each datasource, successful or not.',
  labelNames: LABELS,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});
const failures = new Counter({
  name: 'sluice_connector_connection_failures_total',
  help: 'Connection attempts to each datasource that failed.',
  labelNames: LABELS,
  registers: [metricsRegistry],
});
/** Bytes a live connection has moved so far (read from and written to its socket). */
export type Traffic = () => { read: number; written: number };

/** Open connections whose traffic is counted at each scrape, with what was counted already. */
const live = new Set<{ metrics: ConnectionMetrics; traffic: Traffic; counted: { read: number; written: number } }>();

const bytes = new Counter({
  name: 'sluice_connector_bytes_total',
  help: 'Bytes transferred with each datasource, by direction (read, written).',
  labelNames: [...LABELS, 'direction'],
  registers: [metricsRegistry],
  collect() {
    for (const connection of live) count(connection);
  },
});

function count(connection: { metrics: ConnectionMetrics; traffic: Traffic; counted: { read: number; written: number } }): void {
  const now = connection.traffic();
  connection.metrics.transferred(now.read - connection.counted.read, now.written - connection.counted.written);
  connection.counted = now;
}

/** The seed's connection metrics of one datasource, as Prometheus series labelled by it. */
export class ConnectionMetrics {
  private readonly labels: Record<(typeof LABELS)[number], string>;

  constructor(readonly datasource: Datasource) {
    this.labels = { connector: datasource.connector, datasource: datasource.name };
  }

  /** Runs one connection attempt, timing it and counting it when it fails. */
  async connect<T>(open: () => Promise<T>): Promise<T> {
    const end = connectTime.startTimer(this.labels);
    try {
      return await open();
    } catch (error) {
      failures.inc(this.labels);
      throw error;
    } finally {
      end();
    }
  }

  /**
   * Counts an open connection (and its traffic, when the driver tells it) until the returned function is called (once, when
   * it closed or broke).
   */
  opened(traffic: Traffic = () => ({ read: 0, written: 0 })): () => void {
    active.inc(this.labels);
    const connection = { metrics: this as ConnectionMetrics, traffic, counted: { read: 0, written: 0 } };
    live.add(connection);
    return () => {
      if (!live.delete(connection)) return;
      count(connection);
      active.dec(this.labels);
    };
  }

  pool(inUse: number, size: number): void {
    utilization.set(this.labels, size === 0 ? 0 : inUse / size);
  }

  transferred(read: number, written: number): void {
    if (read > 0) bytes.inc({ ...this.labels, direction: 'read' }, read);
    if (written > 0) bytes.inc({ ...this.labels, direction: 'written' }, written);
  }
}
