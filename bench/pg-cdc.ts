/**
 * PostgreSQL CDC benchmark: events/s from a backlog of inserts through CDC to a no-op sink and to
 * a PostgreSQL sink, and snapshot rows/s against `COPY (SELECT ...) TO STDOUT` of the same table.
 * Rows: BENCH_ROWS (default 200000). Needs the service (bash scripts/services.sh up postgres).
 */
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { pino } from 'pino';
import { concatMap, type Subscription } from 'rxjs';
import { Credits } from '../src/core/flow-control.js';
import { parseConfig } from '../src/core/config.js';
import type { Batch } from '../src/core/batch.js';
import { postgresConfigSchema } from '../src/connectors/postgresql/config.js';
import { CdcSource } from '../src/connectors/postgresql/cdc/cdc-source.js';
import { PostgresSink } from '../src/connectors/postgresql/sink.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const PGURL = process.env.PGURL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: 'silent' });
const out = (line: string) => process.stdout.write(`${line}\n`);

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

function dbUrl(name: string): string {
  const url = new URL(PGURL);
  url.pathname = `/${name}`;
  return url.toString();
}

const TABLE = 'create table events (id bigint primary key, n int, t text, ts timestamptz)';
const src = `sluice_bench_src_${process.pid}`;
const dst = `sluice_bench_dst_${process.pid}`;

/** Reads a CDC source until `done(rows)` says so; returns rows and seconds. */
async function drain(
  slot: string,
  write: (b: Batch) => Promise<void>,
  done: (rows: number, batch: Batch) => boolean,
  snapshot: 'initial' | 'never',
): Promise<{ rows: number; seconds: number }> {
  const source = new CdcSource(
    parseConfig(postgresConfigSchema, { url: dbUrl(src), mode: 'cdc', slot, publication: 'bench', snapshot, batch_size: 5000 }),
  );
  const credits = new Credits(8);
  const controller = new AbortController();
  let rows = 0;
  // Timed from the first batch: connecting and creating the slot are not reading.
  let started = 0;
  let subscription: Subscription | undefined;
  await new Promise<void>((resolve, reject) => {
    subscription = source
      .read(slot, undefined, { flow: credits, signal: controller.signal, logger, batchSize: 5000 })
      .pipe(
        concatMap(async (batch) => {
          started ||= performance.now();
          await write(batch);
          rows += batch.data.numRows;
          await source.commit(slot, batch.meta.position!);
          credits.release();
          if (done(rows, batch)) resolve();
        }),
      )
      .subscribe({ error: reject });
  });
  const seconds = (performance.now() - started) / 1000;
  controller.abort();
  subscription?.unsubscribe();
  await source.close();
  return { rows, seconds };
}

async function createSlot(slot: string): Promise<void> {
  await query(dbUrl(src), `select pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
}

async function insertBacklog(): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl(src) });
  await client.connect();
  await client.query('truncate events');
  for (let from = 1; from <= ROWS; from += 1000) {
    await client.query(
      `insert into events select g, g % 1000, 'event ' || g, now() from generate_series(${from}, ${Math.min(ROWS, from + 999)}) g`,
    );
  }
  await client.end();
}

await query(PGURL, `create database ${src}`);
await query(PGURL, `create database ${dst}`);
try {
  await query(dbUrl(src), `${TABLE}; create publication bench for table events`);
  await query(dbUrl(dst), TABLE);

  // Snapshot vs COPY on the same table.
  await query(dbUrl(src), `insert into events select g, g % 1000, 'event ' || g, now() from generate_series(1, ${ROWS}) g`);
  await query(dbUrl(src), 'vacuum analyze events');
  const copyClient = new pg.Client({ connectionString: dbUrl(src) });
  await copyClient.connect();
  const copyStart = performance.now();
  let copyBytes = 0;
  await new Promise<void>((resolve, reject) => {
    const stream = copyClient.query(copyStreams.to('copy (select * from events) to stdout'));
    stream
      .on('data', (chunk: Buffer) => (copyBytes += chunk.length))
      .on('end', resolve)
      .on('error', reject);
  });
  const copyRate = ROWS / ((performance.now() - copyStart) / 1000);
  await copyClient.end();
  const snap = await drain(
    'bench_snapshot',
    async () => undefined,
    (_, b) => !(b.meta.position as { snapshot?: string }).snapshot,
    'initial',
  );
  const snapshotRate = snap.rows / snap.seconds;
  out(
    `snapshot: ${snap.rows} rows in ${snap.seconds.toFixed(2)}s = ${Math.round(snapshotRate)} rows/s; COPY TO STDOUT ${Math.round(copyRate)} rows/s (${copyBytes} bytes)`,
  );
  await query(dbUrl(src), "select pg_drop_replication_slot('bench_snapshot')");

  // Streaming: a backlog of inserts retained by the slot, drained to a no-op sink.
  await createSlot('bench_noop');
  await insertBacklog();
  const noop = await drain(
    'bench_noop',
    async () => undefined,
    (rows) => rows >= ROWS,
    'never',
  );
  const noopRate = noop.rows / noop.seconds;
  out(`cdc -> no-op sink: ${noop.rows} events in ${noop.seconds.toFixed(2)}s = ${Math.round(noopRate)} events/s`);
  await query(dbUrl(src), "select pg_drop_replication_slot('bench_noop')");

  // The same backlog to a PostgreSQL sink (upsert by key in the second database).
  await createSlot('bench_pg');
  await insertBacklog();
  const sink = new PostgresSink(parseConfig(postgresConfigSchema, { url: dbUrl(dst), table: 'events' }));
  await sink.open({ resuming: false, logger });
  const toPg = await drain(
    'bench_pg',
    (b) => sink.write(b),
    (rows) => rows >= ROWS,
    'never',
  );
  await sink.close();
  const [{ n }] = (await query(dbUrl(dst), 'select count(*)::int as n from events')).rows as { n: number }[];
  out(
    `cdc -> postgresql sink: ${toPg.rows} events in ${toPg.seconds.toFixed(2)}s = ${Math.round(toPg.rows / toPg.seconds)} events/s (${n} rows in target)`,
  );
  await query(dbUrl(src), "select pg_drop_replication_slot('bench_pg')");
  out(`RESULT pg-cdc events_per_s=${Math.round(noopRate)} snapshot_vs_copy=${(snapshotRate / copyRate).toFixed(2)}`);
} finally {
  await query(PGURL, `drop database if exists ${src} with (force)`);
  await query(PGURL, `drop database if exists ${dst} with (force)`);
}
