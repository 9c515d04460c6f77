/**
 * A CDC pipeline process for the crash test: CDC source → one PostgreSQL sink per table, the
 * checkpoint in a JSON file written (atomically) after each durable write and before commit().
 * It logs `W <rows>` after each write, so the test can count the rows delivered in all runs.
 * Usage: worker <src url> <dst url> <checkpoint file> <log file> [slot] [exit-after-slot]; with
 * `exit-after-slot` it kills itself (SIGKILL) as soon as the slot exists, before the snapshot.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { concatMap } from 'rxjs';
import pg from 'pg';
import { pino } from 'pino';
import { Credits } from '../../../src/core/flow-control.js';
import { isRetriable } from '../../../src/core/errors.js';
import type { Position } from '../../../src/core/batch.js';
import { parseConfig } from '../../../src/core/config.js';
import { postgresConfigSchema } from '../../../src/connectors/postgresql/config.js';
import { CdcSource } from '../../../src/connectors/postgresql/cdc/cdc-source.js';
import { PostgresSink } from '../../../src/connectors/postgresql/sink.js';

const [srcUrl, dstUrl, checkpointFile, logFile, slot = 'crash', exitAfterSlot] = process.argv.slice(2);
const logger = pino({ level: 'silent' });

function loadCheckpoint(): Position | undefined {
  return existsSync(checkpointFile) ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as Position) : undefined;
}

function storeCheckpoint(position: Position): void {
  writeFileSync(`${checkpointFile}.tmp`, JSON.stringify(position));
  renameSync(`${checkpointFile}.tmp`, checkpointFile);
}

/** Whether the replication slot exists: the source asks for a credit right after creating it. */
async function slotExists(): Promise<boolean> {
  const client = new pg.Client({ connectionString: srcUrl });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_replication_slots where slot_name = $1', [slot])).rows.length > 0;
  } finally {
    await client.end();
  }
}

async function runOnce(): Promise<void> {
  const source = new CdcSource(
    parseConfig(postgresConfigSchema, { url: srcUrl, mode: 'cdc', slot, publication: 'crash', heartbeat_ms: 200 }),
  );
  const sinks = new Map(
    ['a', 'b', 'c'].map((t) => [`public.${t}`, new PostgresSink(parseConfig(postgresConfigSchema, { url: dstUrl, table: t }))]),
  );
  const credits = new Credits(4);
  const flow = exitAfterSlot
    ? {
        acquire: async () => {
          if (await slotExists()) process.kill(process.pid, 'SIGKILL');
          await credits.acquire();
        },
      }
    : credits;
  try {
    await new Promise<void>((resolve, reject) => {
      source
        .read(slot, loadCheckpoint(), { flow, signal: new AbortController().signal, logger, batchSize: 500 })
        .pipe(
          concatMap(async (batch) => {
            if (batch.data.numRows > 0) {
              await sinks.get(batch.meta.stream)!.write(batch);
              appendFileSync(logFile, `W ${batch.data.numRows}\n`);
            }
            storeCheckpoint(batch.meta.position!);
            await source.commit(batch.meta.partition, batch.meta.position!);
            credits.release();
          }),
        )
        .subscribe({ error: reject, complete: resolve });
    });
  } finally {
    await source.close();
    for (const sink of sinks.values()) await sink.close();
  }
}

// Retries retriable failures (e.g. the slot still held by the walsender of a killed run) with a pause.
for (;;) {
  try {
    await runOnce();
    break;
  } catch (error) {
    if (!isRetriable(error)) throw error;
    await new Promise((r) => setTimeout(r, 300));
  }
}
