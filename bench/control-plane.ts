/**
 * Control plane latency under load: requests/s and p99 latency of `GET /api/v1/pipelines/status`
 * over real HTTP with the server idle, then while a large pipeline (extract → filter → load of a
 * generated NDJSON file) runs in the same process, as it does under `sluice serve`.
 *
 *   node --import tsx bench/control-plane.ts [rows] [seconds]
 *
 * Last line: `RESULT control-plane idle_p99_ms=<n> loaded_p99_ms=<n>`.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { buildApp } from '../src/control-plane/app.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = 8;
const KEY = 'bench-admin-key';

async function generate(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const regions = ['eastus', 'westus', 'northeurope', 'westeurope'];
  for (let i = 0; i < rows; i++) {
    const line = `{"resource_id":"vm-${i}","region":"${regions[i % 4]}","cost":${(i % 997) * 1.5},"cpu":${i % 100}}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Hammers one URL with CONCURRENCY clients until `until()` says stop; returns latencies in ms. */
async function measure(url: string, until: () => boolean): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (!until()) {
        const t = performance.now();
        const response = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`status ${response.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-cp-'));
try {
  process.stderr.write(`generating ${ROWS} rows...\n`);
  await generate(join(dir, 'in.ndjson'), ROWS);
  const app = await buildApp({
    stateDir: join(dir, 'state'),
    apiKeys: `${KEY}:admin`,
    env: { SLUICE_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') },
    logger: pino({ level: 'warn' }),
    rateLimitPerMinute: 10_000_000,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
  await call('POST', '/api/v1/datasources/connect', { name: 'raw', type: 'file', config: { path: join(dir, 'in.ndjson') } });
  await call('POST', '/api/v1/datasources/connect', { name: 'out', type: 'file', config: { path: join(dir, 'out.ndjson') } });
  await call('POST', '/api/v1/pipelines', {
    pipeline_id: 'large',
    steps: [
      { id: 'extract', type: 'extract', config: { source: 'raw' } },
      {
        id: 'filter',
        type: 'transform',
        depends_on: ['extract'],
        config: { transformations: [{ type: 'filter', config: { condition: "region = 'eastus' or cost > 700" } }] },
      },
      { id: 'load', type: 'load', depends_on: ['filter'], config: { target: 'out', mode: 'replace' } },
    ],
  });
  const statusUrl = `${base}/api/v1/pipelines/status`;

  const idleEnd = performance.now() + SECONDS * 1000;
  const idle = await measure(statusUrl, () => performance.now() > idleEnd);

  const run = await call('POST', '/api/v1/pipelines/large/run');
  const runId = String(run.run_id);
  let running = true;
  const runDone = app.controlPlane.runs.wait(runId).then(() => (running = false));
  const loadedEnd = performance.now() + SECONDS * 1000;
  const loaded = await measure(statusUrl, () => !running || performance.now() > loadedEnd);
  await runDone;
  const final = await call('GET', `/api/v1/pipelines/runs/${runId}`);
  await app.close();

  const report = (name: string, m: { latencies: number[]; seconds: number }) =>
    `${name.padEnd(7)} ${String(m.latencies.length).padStart(7)} requests  ${(m.latencies.length / m.seconds).toFixed(0).padStart(6)} req/s  p99 ${p99(m.latencies).toFixed(2)} ms\n`;
  process.stdout.write(report('idle', idle));
  process.stdout.write(report('loaded', loaded));
  const steps = (final.steps as Array<{ step_id: string; rows_out: number }>).map((s) => `${s.step_id}=${s.rows_out}`).join(' ');
  process.stdout.write(`pipeline run ${final.status}: ${steps} (${CONCURRENCY} concurrent clients, ${ROWS} rows)\n`);
  process.stdout.write(
    `RESULT control-plane idle_p99_ms=${p99(idle.latencies).toFixed(2)} loaded_p99_ms=${p99(loaded.latencies).toFixed(2)}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
