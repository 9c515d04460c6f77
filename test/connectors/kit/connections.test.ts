import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { metricsRegistry } from '../../../src/core/metrics.js';
import { SluiceError } from '../../../src/core/errors.js';
import type { Batch } from '../../../src/core/batch.js';
import { QuerySource } from '../../../src/connectors/postgresql/source.js';
import { checkServer, postgresDatasource } from '../../../src/connectors/postgresql/client.js';
import { postgresDriver, postgresPool } from '../../../src/connectors/postgresql/pool.js';
import { ConnectionPool } from '../../../src/connectors/kit/client-pool.js';
import { ConnectionMetrics } from '../../../src/connectors/kit/connection-metrics.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { startServer } from '../../control-plane/helpers.js';
import { closedPort } from '../../support/unresponsive-servers.js';
import { config, createDatabase, readContext, sql } from '../postgresql/pg-helpers.js';
import { config as kafkaConfig, connectorContext, uniqueName } from '../kafka/kafka-helpers.js';

type Labels = Record<string, string>;

/** The value of a series (a histogram's count with `_count`), 0 when it has none yet. */
async function seriesValue(name: string, labels: Labels): Promise<number> {
  const metric = name.endsWith('_count') ? name.slice(0, -'_count'.length) : name;
  const { values } = await metricsRegistry.getSingleMetric(metric)!.get();
  const wanted = name.endsWith('_count') ? `${metric}_count` : undefined;
  const match = values.find(
    (v) =>
      (!wanted || (v as { metricName?: string }).metricName === wanted) &&
      Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return match?.value ?? 0;
}

function labelsOf(datasource: { connector: string; name: string }, extra: Labels = {}): Labels {
  return { connector: datasource.connector, datasource: datasource.name, ...extra };
}

/** A TCP front to the local PostgreSQL that, while down, drops every connection it accepts. */
async function switchableProxy(): Promise<{ port: number; up: boolean; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { up: false };
  const server: Server = createServer((socket) => {
    if (!state.up) return socket.destroy();
    const upstream = tcpConnect(5432, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (s === socket ? upstream : socket).destroy());
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

describe('connection lifecycle, pool and metrics against PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    db = await createDatabase('sluice_kit_pool');
    await sql(db.url, 'create table items (id int primary key, name text)');
    await sql(db.url, "insert into items select g, 'item ' || g from generate_series(1, 100) g");
  });
  afterAll(() => db?.drop());

  it('pool metrics move while a read runs and settle when it ends; the read connection is reused', async () => {
    const cfg = config({ url: db.url, table: 'items', batch_size: 10 });
    const labels = labelsOf(postgresDatasource(cfg));
    const connectsBefore = await seriesValue('sluice_connector_connect_duration_seconds_count', labels);
    const during: number[] = [];
    const source = new QuerySource(cfg);
    const ctx = readContext();
    const read = source.read('items', undefined, {
      ...ctx,
      flow: {
        acquire: async () => {
          during.push(await seriesValue('sluice_connector_pool_utilization_ratio', labels));
          during.push(await seriesValue('sluice_connector_connections_active', labels));
        },
      },
    });
    const batches = await lastValueFrom(read.pipe(toArray()));
    expect(batches.reduce((n, b) => n + b.data.numRows, 0)).toBe(100);
    expect(during[0]).toBe(1 / postgresPool(cfg).size);
    expect(during[1]).toBeGreaterThanOrEqual(1);
    expect(await seriesValue('sluice_connector_pool_utilization_ratio', labels)).toBe(0);
    expect(await seriesValue('sluice_connector_bytes_total', { ...labels, direction: 'read' })).toBeGreaterThan(0);
    expect(await seriesValue('sluice_connector_bytes_total', { ...labels, direction: 'written' })).toBeGreaterThan(0);
    expect(await seriesValue('sluice_connector_connect_duration_seconds_count', labels)).toBe(connectsBefore + 1);
    expect(postgresPool(cfg).idleCount).toBe(1);

    await lastValueFrom(new QuerySource(cfg).read('items', undefined, readContext()).pipe(toArray()));
    expect(await seriesValue('sluice_connector_connect_duration_seconds_count', labels)).toBe(connectsBefore + 1);
  });

  it('sizes the read pool by max_connections (20 by default)', () => {
    expect(postgresPool(config({ url: db.url, table: 'items' })).size).toBe(20);
    const small = postgresPool(config({ url: db.url, table: 'items', max_connections: 3 }));
    expect(small.size).toBe(3);
    expect(postgresPool(config({ url: db.url, table: 'other', max_connections: 3 }))).toBe(small);
  });

  it('abort ends a read waiting for a credit and gives its connection back to the pool, clean', async () => {
    const cfg = config({ url: db.url, table: 'items', batch_size: 10 });
    const pool = postgresPool(cfg);
    const stop = new AbortController();
    let granted = 0;
    const batches: Batch[] = [];
    const read = new QuerySource(cfg).read('items', undefined, {
      ...readContext(stop.signal),
      // One credit, then none: the read waits for the second until it is aborted.
      flow: { acquire: () => (granted++ === 0 ? Promise.resolve() : new Promise<void>(() => stop.abort())) },
    });
    const done = lastValueFrom(read.pipe(toArray()));
    batches.push(...(await done));
    expect(batches).toHaveLength(1);
    expect(pool.inUseCount).toBe(0);
    expect(pool.idleCount).toBe(1);
    // The connection came back out of its transaction and cursor: the next read on it sees every row.
    const again = await lastValueFrom(new QuerySource(cfg).read('items', undefined, readContext()).pipe(toArray()));
    expect(again.reduce((n, b) => n + b.data.numRows, 0)).toBe(100);
    expect(pool.idleCount).toBe(1);
  });

  it('counts every failed connection attempt against a closed port, retries included', async () => {
    const port = await closedPort();
    const cfg = config({ url: `postgres://postgres@127.0.0.1:${port}/nowhere`, table: 'items', resilience: { retries: 2, backoff_ms: 1 } });
    const labels = labelsOf(postgresDatasource(cfg));
    const error = await lastValueFrom(new QuerySource(cfg).read('items', undefined, readContext())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('SLUICE_CONNECTION_FAILED');
    expect((error as SluiceError).retriable).toBe(true);
    expect(await seriesValue('sluice_connector_connection_failures_total', labels)).toBe(3);
    expect(await seriesValue('sluice_connector_connections_active', labels)).toBe(0);
  });

  describe('circuit breaker of the datasource', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('opens after `threshold` failures and then fails fast, half-opens after the pause and closes on a success', async () => {
      const proxy = await switchableProxy();
      try {
        vi.useFakeTimers({ toFake: ['Date'] });
        const cfg = config({
          url: `postgres://postgres@127.0.0.1:${proxy.port}/${db.name}`,
          resilience: { retries: 0, breaker: { threshold: 3, half_open_after_ms: 60_000 } },
        });
        const datasource = postgresDatasource(cfg);
        const failures = () => seriesValue('sluice_connector_connection_failures_total', labelsOf(datasource));
        const attempt = () =>
          checkServer(cfg).then(
            () => undefined,
            (e: unknown) => e as SluiceError,
          );

        for (let i = 0; i < 3; i++) expect((await attempt())?.code).toBe('SLUICE_CONNECTION_FAILED');
        expect(await failures()).toBe(3);

        proxy.up = true;
        const open = await attempt();
        expect(open?.code).toBe('SLUICE_CIRCUIT_OPEN');
        expect(open?.retriable).toBe(true);
        expect(open?.message).toContain(datasource.name);
        // Failed fast: no connection was attempted.
        expect(await failures()).toBe(3);

        vi.setSystemTime(Date.now() + 60_001);
        expect(await attempt()).toBeUndefined();
        // Closed again: calls go through one after another.
        expect(await attempt()).toBeUndefined();

        proxy.up = false;
        for (let i = 0; i < 2; i++) expect((await attempt())?.code).toBe('SLUICE_CONNECTION_FAILED');
        // Two failures after the reset are below the threshold of three: still closed.
        proxy.up = true;
        expect(await attempt()).toBeUndefined();
      } finally {
        await proxy.close();
      }
    });

    it('a half-open attempt that fails opens the circuit again', async () => {
      const proxy = await switchableProxy();
      try {
        vi.useFakeTimers({ toFake: ['Date'] });
        const cfg = config({
          url: `postgres://postgres@127.0.0.1:${proxy.port}/${db.name}`,
          resilience: { retries: 0, breaker: { threshold: 1, half_open_after_ms: 1_000 } },
        });
        const attempt = () =>
          checkServer(cfg).then(
            () => undefined,
            (e: unknown) => e as SluiceError,
          );
        expect((await attempt())?.code).toBe('SLUICE_CONNECTION_FAILED');
        expect((await attempt())?.code).toBe('SLUICE_CIRCUIT_OPEN');
        vi.setSystemTime(Date.now() + 1_001);
        expect((await attempt())?.code).toBe('SLUICE_CONNECTION_FAILED');
        proxy.up = true;
        expect((await attempt())?.code).toBe('SLUICE_CIRCUIT_OPEN');
      } finally {
        await proxy.close();
      }
    });
  });

  it('serves the connection series on the control plane /metrics', async () => {
    const cfg = config({ url: db.url, table: 'items' });
    await lastValueFrom(new QuerySource(cfg).read('items', undefined, readContext()).pipe(toArray()));
    const server = await startServer('pglite');
    try {
      const body = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      const { name } = postgresDatasource(cfg);
      expect(body).toMatch(
        new RegExp(
          `^sluice_connector_connections_active\\{connector="postgresql",datasource="${name.replace(/[.]/g, '\\.')}"\\} \\d+$`,
          'm',
        ),
      );
      expect(body).toContain('sluice_connector_connect_duration_seconds_count{connector="postgresql"');
      expect(body).toContain('sluice_http_request_duration_seconds');
    } finally {
      await server.close();
    }
  });
});

describe('connection metrics and breaker of the kafka connector', () => {
  it('counts a producer connect and its disconnect', async () => {
    const cfg = kafkaConfig({ topic: uniqueName('kit-connect') });
    const labels = { connector: 'kafka', datasource: [...cfg.brokers].sort().join(',') };
    const connects = await seriesValue('sluice_connector_connect_duration_seconds_count', labels);
    const active = await seriesValue('sluice_connector_connections_active', labels);
    const sink = new KafkaSink(cfg, connectorContext);
    await sink.open();
    expect(await seriesValue('sluice_connector_connect_duration_seconds_count', labels)).toBe(connects + 1);
    expect(await seriesValue('sluice_connector_connections_active', labels)).toBe(active + 1);
    await sink.close();
    expect(await seriesValue('sluice_connector_connections_active', labels)).toBe(active);
  });

  it('counts a connect failure against a closed port, then fails fast while the breaker is open', { timeout: 60_000 }, async () => {
    const port = await closedPort();
    const cfg = kafkaConfig({
      brokers: [`127.0.0.1:${port}`],
      topic: 'never',
      resilience: { breaker: { threshold: 1, half_open_after_ms: 3_600_000 } },
    });
    const labels = { connector: 'kafka', datasource: `127.0.0.1:${port}` };
    const first = await new KafkaSink(cfg, connectorContext).open().catch((e: unknown) => e as SluiceError);
    expect(first?.code).toBe('SLUICE_CONNECTION_FAILED');
    expect(await seriesValue('sluice_connector_connection_failures_total', labels)).toBe(1);
    const second = await new KafkaSink(cfg, connectorContext).open().catch((e: unknown) => e as SluiceError);
    expect(second?.code).toBe('SLUICE_CIRCUIT_OPEN');
    expect(second?.message).toContain(`127.0.0.1:${port}`);
    expect(await seriesValue('sluice_connector_connection_failures_total', labels)).toBe(1);
  });
});

describe('ConnectionPool over PostgreSQL connections', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    db = await createDatabase('sluice_kit_bounds');
  });
  afterAll(() => db?.drop());

  it('holds at most `size` connections: a waiter gets the released one, an aborted waiter leaves the queue', async () => {
    const cfg = config({ url: db.url });
    const pool = new ConnectionPool(postgresDriver(cfg), new ConnectionMetrics(postgresDatasource(cfg)), 1);
    const first = await pool.acquire();
    const quitter = new AbortController();
    const waiting = pool.acquire();
    const aborted = pool.acquire(quitter.signal);
    const later = pool.acquire();
    quitter.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    await pool.release(first, false);
    expect(await waiting).toBe(first);
    await pool.release(first, false);
    // The last waiter is still queued (the abort removed only its own entry) and gets it next.
    expect(await later).toBe(first);
    await pool.release(first, false);
    expect(pool.idleCount).toBe(1);
    await pool.drain();
  });

  it('drops an idle connection the server ended, and opens a new one for the next caller', async () => {
    const cfg = config({ url: db.url });
    const pool = new ConnectionPool(postgresDriver(cfg), new ConnectionMetrics(postgresDatasource(cfg)), 2);
    const client = await pool.acquire();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    await pool.release(client, false);
    const ended = new Promise((resolve) => client.once('end', resolve));
    await sql(db.url, 'select pg_terminate_backend($1)', [rows[0].pid]);
    await ended;
    expect(pool.idleCount).toBe(0);
    const next = await pool.acquire();
    expect(next).not.toBe(client);
    expect((await next.query('select 1 as one')).rows[0].one).toBe(1);
    await pool.release(next, false);
    await pool.drain();
  });
});
