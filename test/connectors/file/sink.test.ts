import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows, rowsOf, type Batch } from '../../../src/core/batch.js';
import { Credits } from '../../../src/core/flow-control.js';
import type { Sink } from '../../../src/core/ports.js';
import { parseConnectorConfig } from '../../../src/core/definition-config.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/connectors/file/index.js';
import { readAll, tempDir } from '../../formats/helpers.js';
import { withFileSizeLimit } from '../../support/file-size-limit.js';

const logger = pino({ level: 'silent' });
const dir = tempDir('sluice-file-sink-');
const connector = () => registry.getConnector('file')!;

async function openSink(config: Record<string, unknown>, resuming: boolean): Promise<Sink> {
  const sink = connector().createSink!(parseConnectorConfig(connector(), config, 'sink'), { node: 'out', logger });
  await sink.open!({ resuming, logger });
  return sink;
}

function batch(rows: Record<string, unknown>[]): Batch {
  return { data: recordBatchFromRows(rows), meta: { stream: 's', partition: 'p', position: null, kind: 'records' } };
}

describe('file sink, NDJSON and CSV', () => {
  it('a fresh overwrite run truncates; write resolves with the data on disk', async () => {
    const path = join(dir, 'fresh', 'out.ndjson');
    mkdirSync(join(dir, 'fresh'));
    writeFileSync(path, '{"old":true}\n');
    const sink = await openSink({ path }, false);
    await sink.write(
      batch([
        { a: 1, s: 'ü' },
        { a: null, s: 'x' },
      ]),
    );
    expect(readFileSync(path, 'utf8')).toBe('{"a":1,"s":"ü"}\n{"a":null,"s":"x"}\n');
    await sink.write(batch([]));
    await sink.write(batch([{ a: 2, s: 'z' }]));
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1,"s":"ü"}\n{"a":null,"s":"x"}\n{"a":2,"s":"z"}\n');
  });

  it('a resumed run cuts a partial last line left by a crash, then appends', async () => {
    const path = join(dir, 'resumed.ndjson');
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":3,"s":"hal');
    const sink = await openSink({ path }, true);
    await sink.write(batch([{ a: 3 }]));
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    // A file holding only a partial line is emptied.
    writeFileSync(path, '{"a":1');
    await (await openSink({ path }, true)).close();
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('a resumed CSV run cuts a torn record back to the last whole one, also when it broke after a quoted line feed', async () => {
    const path = join(dir, 'torn.csv');
    writeFileSync(path, 'id,note\n1,"two\nlines"\n2,"torn\nhal');
    const sink = await openSink({ path, mode: 'append' }, true);
    await sink.write(batch([{ id: 2, note: 'whole' }]));
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('id,note\n1,"two\nlines"\n2,whole\n');
    expect((await readAll(path, 'csv')).rows).toEqual([
      { id: 1, note: 'two\nlines' },
      { id: 2, note: 'whole' },
    ]);
  });

  it('mode append keeps earlier output on a fresh run', async () => {
    const path = join(dir, 'append.ndjson');
    writeFileSync(path, '{"a":1}\n');
    const sink = await openSink({ path, mode: 'append' }, false);
    await sink.write(batch([{ a: 2 }]));
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
  });

  it('CSV writes the header once, only into an empty file, and reads back', async () => {
    const path = join(dir, 'out.csv');
    let sink = await openSink({ path }, false);
    await sink.write(batch([{ id: 1, name: 'a, "b"' }]));
    await sink.write(batch([{ id: 2, name: '' }]));
    await sink.close();
    sink = await openSink({ path }, true);
    await sink.write(batch([{ id: 3, name: 'line\nbreak' }]));
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('id,name\n1,"a, ""b"""\n2,""\n3,"line\nbreak"\n');
    expect((await readAll(path, 'csv')).rows).toEqual([
      { id: 1, name: 'a, "b"' },
      { id: 2, name: '' },
      { id: 3, name: 'line\nbreak' },
    ]);
  });

  it('a retry of an append that failed part way leaves neither a glued nor a doubled line', async () => {
    const path = join(dir, 'torn.ndjson');
    const sink = await openSink({ path, mode: 'append' }, false);
    await sink.write(batch([{ a: 1 }]));
    const rows = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x'.repeat(20) }));
    const size = statSync(path).size;
    await withFileSizeLimit(size + 4096, () => expect(sink.write(batch(rows))).rejects.toThrow(/EFBIG|too large/i));
    // Part of the batch reached the disk before the write failed.
    expect(statSync(path).size).toBe(size + 4096);
    await sink.write(batch(rows));
    await sink.write(batch([{ a: 2 }]));
    await sink.close();
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ a: 1 }, ...rows, { a: 2 }]);
  });

  it('refuses the json format as a sink', () => {
    expect(() => parseConnectorConfig(connector(), { path: join(dir, 'x.json') }, 'sink')).toThrow(
      expect.objectContaining({ code: 'SLUICE_CONFIG_INVALID' }),
    );
  });
});

describe('file sink, parquet', () => {
  const parts = (d: string) => readdirSync(d).sort();

  it('writes one part file per batch; a fresh run removes old parts, a resumed one numbers on', async () => {
    const d = join(dir, 'parts');
    mkdirSync(d);
    writeFileSync(join(d, 'part-00007.parquet'), 'old');
    writeFileSync(join(d, '.part-00008.parquet.tmp'), 'crashed');
    writeFileSync(join(d, 'keep.txt'), 'not ours');
    let sink = await openSink({ path: d, format: 'parquet', compression: 'zstd' }, false);
    await sink.write(
      batch([
        { id: 1, s: 'ü' },
        { id: 2, s: null },
      ]),
    );
    await sink.write(batch([]));
    await sink.write(batch([{ id: 3, s: 'c' }]));
    await sink.close();
    expect(parts(d)).toEqual(['keep.txt', 'part-00000.parquet', 'part-00001.parquet']);

    writeFileSync(join(d, '.part-00002.parquet.tmp'), 'crashed');
    sink = await openSink({ path: `${d}/` }, true);
    await sink.write(batch([{ id: 4, s: 'd' }]));
    await sink.close();
    expect(parts(d)).toEqual(['keep.txt', 'part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
    const rows = [];
    for (const p of parts(d).filter((n) => n.endsWith('.parquet'))) rows.push(...(await readAll(join(d, p), 'parquet')).rows);
    expect(rows).toEqual([
      { id: 1, s: 'ü' },
      { id: 2, s: null },
      { id: 3, s: 'c' },
      { id: 4, s: 'd' },
    ]);
  });

  it('copies a CSV file to parquet and back to NDJSON through source and sink', async () => {
    const input = join(dir, 'copy-in.csv');
    writeFileSync(input, 'id,when,ok\n1,2024-01-05T10:00:00Z,true\n2,,false\n3,2024-01-06,\nbroken\n');
    const src = connector().createSource!(parseConnectorConfig(connector(), { path: input }, 'source'), { node: 'in', logger });
    const batches = await lastValueFrom(
      src.read(input, undefined, { flow: new Credits(10), signal: new AbortController().signal, logger, batchSize: 2 }).pipe(toArray()),
    );
    expect(batches.flatMap((b) => b.meta.deadLetters ?? []).map((d) => d.origin)).toEqual([{ file: input, line: 5 }]);
    const out = join(dir, 'copy-parquet');
    const sink = await openSink({ path: out, format: 'parquet' }, false);
    for (const b of batches) await sink.write(b);
    await sink.close();
    const copied = [];
    for (const p of parts(out)) copied.push(...(await readAll(join(out, p), 'parquet')).chunks.map((c) => c.data));
    const ndjson = join(dir, 'copy-out.ndjson');
    const back = await openSink({ path: ndjson }, false);
    for (const data of copied) await back.write({ data, meta: batches[0].meta });
    await back.close();
    expect(readFileSync(ndjson, 'utf8')).toBe(
      '{"id":1,"when":"2024-01-05T10:00:00.000Z","ok":true}\n{"id":2,"when":null,"ok":false}\n{"id":3,"when":"2024-01-06T00:00:00.000Z","ok":null}\n',
    );
    expect(copied.reduce((n, d) => n + d.numRows, 0)).toBe(batches.reduce((n, b) => n + rowsOf(b.data).length, 0));
    expect(existsSync(join(out, '.part-00000.parquet.tmp'))).toBe(false);
  });
});
