import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows, type Batch } from '../../../src/core/batch.js';
import type { Sink } from '../../../src/core/ports.js';
import { parseConnectorConfig } from '../../../src/core/definition-config.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/connectors/file/index.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { MemoryCheckpointStore } from '../../../src/state/memory-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';
import { readAll, tempDir } from '../../formats/helpers.js';
import { memorySource } from '../../support/memory-connector.js';

const logger = pino({ level: 'silent' });
const dir = tempDir('sluice-file-replace-');
const connector = () => registry.getConnector('file')!;

/** A sink of a run that keeps checkpoints (`resumeKey`), unless `resumable` is false. */
async function openSink(config: Record<string, unknown>, resuming = false, resumable = true): Promise<Sink> {
  const sink = connector().createSink!(parseConnectorConfig(connector(), config, 'sink'), { node: 'out', logger });
  await sink.open!({ resuming, logger, ...(resumable ? { resumeKey: 'replace-test/out' } : {}) });
  return sink;
}

function batch(rows: Record<string, unknown>[]): Batch {
  return { data: recordBatchFromRows(rows), meta: { stream: 's', partition: 'p', position: null, kind: 'records' } };
}

/** Every row of a parquet part directory, part after part. */
async function datasetRows(path: string): Promise<Record<string, unknown>[]> {
  const rows = [];
  for (const name of readdirSync(path).sort()) rows.push(...(await readAll(join(path, name), 'parquet')).rows);
  return rows;
}

/** What a directory holds, and what each file holds, to compare a target before and after. */
function snapshot(path: string): Record<string, string> {
  if (!statSync(path).isDirectory()) return { '.': readFileSync(path, 'base64') };
  return Object.fromEntries(
    readdirSync(path)
      .sort()
      .map((name) => [name, readFileSync(join(path, name), 'base64')]),
  );
}

/** Names left next to a target by a replace (staging, old parts). */
const leftovers = (parent: string) => readdirSync(parent).filter((name) => name.includes('replace') || name.includes('.tmp'));

const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: from + i }));

function topology(name: string, source: string, target: Record<string, unknown>) {
  return compileTopology({
    name,
    settings: { batch_size: 10, max_in_flight: 1, sink_retries: 0 },
    dead_letter: { type: 'file', config: { path: join(dir, `${name}.dead-letter.ndjson`) } },
    nodes: {
      input: { type: 'memory', config: { id: source } },
      target: { type: 'file', inputs: ['input'], config: target },
    },
  });
}

describe('file sink, mode replace', () => {
  it('stages an NDJSON replace beside the target and renames it over the target on finish', async () => {
    const path = join(dir, 'single', 'out.ndjson');
    mkdirSync(join(dir, 'single'));
    writeFileSync(path, '{"old":1}\n{"old":2}\n');
    const sink = await openSink({ path, mode: 'replace' });
    await sink.write(batch([{ a: 1 }]));
    await sink.write(batch([{ a: 2 }]));
    expect(readFileSync(path, 'utf8')).toBe('{"old":1}\n{"old":2}\n');
    await sink.finish!();
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(readdirSync(join(dir, 'single'))).toEqual(['out.ndjson']);
  });

  it('stages a parquet directory replace and swaps it in whole on finish: old parts stay until then', async () => {
    const path = join(dir, 'dataset');
    let sink = await openSink({ path, format: 'parquet', mode: 'replace' });
    for (let b = 0; b < 3; b++) await sink.write(batch(ids(b * 10, 10)));
    await sink.finish!();
    await sink.close();
    const before = snapshot(path);
    expect(Object.keys(before)).toEqual(['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);

    sink = await openSink({ path, format: 'parquet', mode: 'replace' });
    await sink.write(batch(ids(100, 5)));
    expect(snapshot(path)).toEqual(before);
    await sink.finish!();
    await sink.close();
    expect(await datasetRows(path)).toEqual(ids(100, 5));
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses to replace a directory that holds files other than part files', async () => {
    const path = join(dir, 'mixed');
    mkdirSync(path);
    writeFileSync(join(path, 'notes.txt'), 'mine');
    await expect(openSink({ path, format: 'parquet', mode: 'replace' })).rejects.toMatchObject({
      code: 'SLUICE_CONFIG_INVALID',
      message: expect.stringContaining('notes.txt'),
    });
    expect(readdirSync(path)).toEqual(['notes.txt']);
  });

  it('removes the staging of a replace that did not publish when its run cannot resume (a pipeline step)', async () => {
    const path = join(dir, 'one-off.ndjson');
    writeFileSync(path, '{"id":-1}\n');
    const sink = await openSink({ path, format: 'ndjson', mode: 'replace' }, false, false);
    await sink.write(batch(ids(0, 3)));
    const oneOff = () => leftovers(dir).filter((name) => name.includes('one-off'));
    expect(oneOff()).toEqual(['.one-off.ndjson.replace-staging']);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"id":-1}\n');
    expect(oneOff()).toEqual([]);
  });

  it('completes a directory publish a crash interrupted between its two renames', async () => {
    const path = join(dir, 'interrupted');
    const old = await openSink({ path, format: 'parquet', mode: 'replace' });
    await old.write(batch(ids(0, 3)));
    await old.finish!();
    await old.close();
    const staged = await openSink({ path, format: 'parquet', mode: 'replace' });
    await staged.write(batch(ids(50, 4)));
    await staged.close();
    // The state between the renames: target moved aside, staging complete, nothing at the target.
    renameSync(path, join(dir, '.interrupted.replaced'));
    const next = await openSink({ path, format: 'parquet', mode: 'append' });
    await next.close();
    expect(await datasetRows(path)).toEqual(ids(50, 4));
    expect(leftovers(dir)).toEqual([]);
  });

  for (const [format, name] of [
    ['ndjson', 'failing.ndjson'],
    ['parquet', 'failing-parquet'],
  ] as const) {
    it(`${format}: a run whose source fails after some batches leaves the old dataset intact; the resumed run replaces it whole`, async () => {
      const path = join(dir, name);
      const config = { path, format, mode: 'replace' };
      const checkpoints = new MemoryCheckpointStore();
      memorySource(`old-${format}`, { batches: 5, rowsPerBatch: 10 });
      expect((await runTopology(topology(`old-${format}`, `old-${format}`, config), { logger, checkpoints })).status).toBe('completed');
      const before = snapshot(path);

      const source = memorySource(`new-${format}`, { batches: 20, rowsPerBatch: 3, failAfter: 8 });
      const failed = await runTopology(topology(`new-${format}`, `new-${format}`, config), { logger, checkpoints });
      expect(failed.status).toBe('failed');
      expect(source.emitted).toBe(8);
      expect(snapshot(path)).toEqual(before);

      source.failAfter = undefined;
      const resumed = await runTopology(topology(`new-${format}`, `new-${format}`, config), { logger, checkpoints });
      expect(resumed).toMatchObject({ status: 'completed', resumed: true });
      const rows = format === 'parquet' ? await datasetRows(path) : (await readAll(path, 'ndjson')).rows;
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids(0, 60).map((r) => r.id)));
      expect(leftovers(dir).filter((n) => n.includes(name))).toEqual([]);
    });
  }

  it('a resume after the publish (crash before the checkpoints were removed) keeps the published rows', async () => {
    const path = join(dir, 'published.ndjson');
    const sink = await openSink({ path, mode: 'replace' });
    await sink.write(batch(ids(0, 4)));
    await sink.finish!();
    await sink.close();
    const resumed = await openSink({ path, mode: 'replace' }, true);
    await resumed.write(batch(ids(4, 1)));
    await resumed.finish!();
    await resumed.close();
    expect((await readAll(path, 'ndjson')).rows).toEqual(ids(0, 5));
  });
});
