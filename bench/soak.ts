/**
 * Soak: memory of one long CDC session. A load generator in its own process inserts rows into
 * PostgreSQL as fast as it can while one CDC read streams them through the runtime (checkpoints
 * in Redis) to a no-op sink, then, in a second session, to a PostgreSQL sink. RSS and heap are
 * printed every few seconds. The first 10% of the events warm up (at least a million, at most
 * half); the growth is the median RSS of the last samples after warm-up minus that of the first
 * ones (medians: the heap breathes with each collection).
 *
 *   npm run bench -- soak [--events N] [--sink noop|postgresql|both]
 *
 * Events per session: --events or SOAK_EVENTS (default 20,000,000). PGURL, REDIS_URL.
 * Last line: `RESULT soak events=<all sessions> rss_growth_mb=<largest growth of a session>`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import '../src/register-all.js';
import type { RunMetrics } from '../src/runtime/run-metrics.js';
import { runTopology } from '../src/runtime/run-topology.js';
import { compileTopology } from '../src/topology/compile.js';
import { DISCARD } from './discard-sink.js';

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const EVENTS = Number(flag('--events') ?? process.env.SOAK_EVENTS ?? 20_000_000);
const SINKS = (flag('--sink') ?? 'both') === 'both' ? ['noop', 'postgresql'] : [flag('--sink')!];
const SAMPLE_MS = 5_000;
const WARM_UP = Math.min(EVENTS / 2, Math.max(EVENTS / 10, 1_000_000));
const PGURL = process.env.PGURL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'warn' });
const out = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
/** Samples at each end of a session that the growth compares. */
const ENDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median RSS of the last samples minus that of the first ones (each end at most half of them). */
function growthOf(samples: number[]): number {
  const n = Math.max(1, Math.min(ENDS, Math.floor(samples.length / 2)));
  return samples.length === 0 ? 0 : median(samples.slice(-n)) - median(samples.slice(0, n));
}

async function query(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function dbUrl(name: string): string {
  const url = new URL(PGURL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Starts the load generator process: rows `from..to` inserted in chunks. */
function insertLoad(url: string, from: number, to: number): Promise<void> {
  const script = fileURLToPath(new URL('soak/insert-load.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, String(from), String(to)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`load generator exited with ${code}`))));
  });
}

/** One CDC session of EVENTS inserts to a sink: events delivered and RSS growth after warm-up (MB). */
async function session(sink: string, srcUrl: string, dstUrl: string): Promise<{ events: number; growth: number }> {
  const slot = `soak_${sink}_${process.pid}`;
  await query(srcUrl, 'truncate events');
  // The slot exists before the first insert, so the session streams every one of them.
  await query(srcUrl, `select pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
  const topology = compileTopology({
    name: `soak-${sink}-${process.pid}`,
    checkpoint: { store: 'redis', url: REDIS_URL, key_prefix: `sluice:bench:soak:${process.pid}:` },
    nodes: {
      changes: { type: 'postgresql', config: { url: srcUrl, mode: 'cdc', slot, publication: 'soak', snapshot: 'never', batch_size: 5000 } },
      out:
        sink === 'noop'
          ? { type: DISCARD, inputs: ['changes'], config: {} }
          : { type: 'postgresql', inputs: ['changes'], config: { url: dstUrl, table: 'events' } },
    },
  });
  const stop = new AbortController();
  let metrics: RunMetrics | undefined;
  const started = Date.now();
  let warm = false;
  const samples: number[] = [];
  let last = { at: started, events: 0 };
  const delivered = () => metrics?.of('out').rowsOut ?? 0;
  const sample = setInterval(() => {
    const events = delivered();
    const { rss, heapUsed } = process.memoryUsage();
    warm ||= events >= WARM_UP;
    if (warm) samples.push(rss);
    const rate = Math.round(((events - last.events) * 1000) / (Date.now() - last.at));
    last = { at: Date.now(), events };
    out(
      `${sink}: t=${Math.round((Date.now() - started) / 1000)}s events=${events} events_per_s=${rate} rss_mb=${mb(rss)} heap_mb=${mb(heapUsed)}${warm ? '' : ' (warm-up)'}`,
    );
    if (metrics && metrics.recordsRead >= EVENTS) stop.abort();
  }, SAMPLE_MS);
  const load = insertLoad(srcUrl, 1, EVENTS);
  try {
    const summary = await runTopology(topology, { signal: stop.signal, logger, onStart: (m) => (metrics = m) });
    await load;
    if (summary.status === 'failed') throw new Error(`session failed: ${summary.error}`);
  } finally {
    clearInterval(sample);
    await query(srcUrl, `select pg_drop_replication_slot('${slot}')`);
  }
  const growth = mb(growthOf(samples));
  out(`${sink}: ${delivered()} events in ${Math.round((Date.now() - started) / 1000)}s, rss growth after warm-up ${growth} MB`);
  return { events: delivered(), growth };
}

const src = `sluice_soak_src_${process.pid}`;
const dst = `sluice_soak_dst_${process.pid}`;
const TABLE = 'create table events (id bigint primary key, n int, t text, ts timestamptz)';
await query(PGURL, `create database ${src}`);
await query(PGURL, `create database ${dst}`);
try {
  await query(dbUrl(src), `${TABLE}; create publication soak for table events with (publish = 'insert')`);
  await query(dbUrl(dst), TABLE);
  const sessions = [];
  for (const sink of SINKS) sessions.push(await session(sink, dbUrl(src), dbUrl(dst)));
  const events = sessions.reduce((sum, s) => sum + s.events, 0);
  out(`RESULT soak events=${events} rss_growth_mb=${Math.max(...sessions.map((s) => s.growth))}`);
} finally {
  await query(PGURL, `drop database if exists ${src} with (force)`);
  await query(PGURL, `drop database if exists ${dst} with (force)`);
}
