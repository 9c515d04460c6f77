/**
 * Full sync of N rows where 1% changed, against copying all rows.
 *
 *   npm run bench -- sync [--rows N]      (default 1,000,000; PGURL, REDIS_URL)
 *
 * Builds a source table of N rows, syncs it once to a target (keyed state in Redis), changes 1%
 * of the source rows, then times (a) a second full sync, which reads every row but writes only
 * the changed ones, and (b) what a sync without state does: copy every row to a target that
 * already holds them (the postgresql sink's `replace` mode: staged, then swapped in one
 * transaction, so deletes are applied too). For reference it also times a bare COPY of every row
 * into an empty table. Last line: `RESULT sync changed_only_speedup=<b/a> rows_per_s=<N/a>`.
 */
import pg from 'pg';
import { pino } from 'pino';
import '../src/register-all.js';
import { runTopology } from '../src/runtime/run-topology.js';
import { MemoryCheckpointStore } from '../src/state/memory-checkpoint-store.js';
import { compileTopology } from '../src/topology/compile.js';
import { parseSyncRule } from '../src/sync/rule-schema.js';
import { SyncEngine } from '../src/sync/sync-engine.js';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
const pgUrl = process.env.PGURL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `sluice_bench_sync_${process.pid}`;
const prefix = `sluice:bench:sync:${process.pid}:`;
const logger = pino({ level: 'silent' });

async function admin(sql: string, url = pgUrl): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const out = (line: string) => process.stdout.write(line + '\n');
const seconds = (ms: number) => (ms / 1000).toFixed(2);

await admin(`create database ${dbName}`);
const url = new URL(pgUrl);
url.pathname = `/${dbName}`;
const dbUrl = url.toString();
const engine = new SyncEngine({
  resolve: async () => ({ type: 'postgresql', config: { url: dbUrl } }),
  redisUrl,
  keyPrefix: prefix,
  logger,
});
try {
  const columns = 'id bigint primary key, name text, amount numeric(12,2), category int, updated_at timestamptz';
  await admin(
    `create table source (${columns}); create table target (${columns}); create table copy_target (${columns}); create table empty_target (${columns})`,
    dbUrl,
  );
  await admin(
    `insert into source select g, 'name ' || g, (g % 100000) / 100.0, g % 17, timestamptz '2026-01-01' + g * interval '1 second' from generate_series(1, ${rows}) g`,
    dbUrl,
  );
  await admin('vacuum analyze source', dbUrl);
  out(`rows: ${rows}`);

  const rule = parseSyncRule({
    rule_id: 'bench',
    name: 'bench',
    source: 'db',
    target: 'db',
    mode: 'full',
    source_config: { table: 'source' },
    target_config: { table: 'target' },
  });
  let started = Date.now();
  const initial = await engine.execute(rule);
  out(
    `initial full sync (every row new): ${seconds(Date.now() - started)} s, inserted ${initial.rows_inserted}, state ${initial.state_keys} keys / ${((initial.state_bytes ?? 0) / 1e6).toFixed(1)} MB in Redis`,
  );

  await admin('update source set amount = amount + 1 where id % 100 = 0', dbUrl);
  started = Date.now();
  const changed = await engine.execute(rule);
  const syncMs = Date.now() - started;
  out(
    `full sync, 1% changed: ${seconds(syncMs)} s, read ${changed.rows_read}, updated ${changed.rows_updated}, unchanged ${changed.rows_unchanged}`,
  );
  if (changed.status !== 'completed' || changed.rows_updated !== Math.floor(rows / 100))
    throw new Error(`unexpected sync result: ${JSON.stringify(changed)}`);

  const copyAll = async (table: string, writeMode: 'append' | 'replace'): Promise<number> => {
    const topology = compileTopology({
      name: `bench-copy-${table}-${process.pid}`,
      nodes: {
        source: { type: 'postgresql', config: { url: dbUrl, table: 'source' } },
        target: { type: 'postgresql', inputs: ['source'], config: { url: dbUrl, table, write_mode: writeMode } },
      },
    });
    const begin = Date.now();
    const summary = await runTopology(topology, { logger, checkpoints: new MemoryCheckpointStore() });
    if (summary.status !== 'completed') throw new Error(`copy failed: ${summary.error}`);
    return Date.now() - begin;
  };
  await admin('insert into copy_target select * from target', dbUrl);
  const copyMs = await copyAll('copy_target', 'replace');
  out(`copy of every row to a target holding them (replace): ${seconds(copyMs)} s`);
  const emptyMs = await copyAll('empty_target', 'append');
  out(`for reference, bare COPY of every row into an empty table: ${seconds(emptyMs)} s`);

  out(`RESULT sync changed_only_speedup=${(copyMs / syncMs).toFixed(2)} rows_per_s=${Math.round(rows / (syncMs / 1000))}`);
} finally {
  await engine.store.deleteRule('bench');
  await engine.close();
  await admin(`drop database if exists ${dbName} with (force)`);
}
