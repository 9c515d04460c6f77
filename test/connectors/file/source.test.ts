import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../src/core/batch.js';
import { rowsOf } from '../../../src/core/batch.js';
import { Credits } from '../../../src/core/flow-control.js';
import type { ReadContext, Source } from '../../../src/core/ports.js';
import { parseConnectorConfig } from '../../../src/core/definition-config.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/connectors/file/index.js';
import { tempDir } from '../../formats/helpers.js';

const logger = pino({ level: 'silent' });
const dir = tempDir('sluice-file-source-');

function source(config: Record<string, unknown>): Source {
  const file = registry.getConnector('file')!;
  return file.createSource!(parseConnectorConfig(file, config, 'source'), { node: 'orders', logger });
}

function readContext(overrides: Partial<ReadContext> = {}): ReadContext {
  return { flow: new Credits(1000), signal: new AbortController().signal, logger, batchSize: 3, ...overrides };
}

const collect = (observable: Observable<Batch>) => lastValueFrom(observable.pipe(toArray()), { defaultValue: [] as Batch[] });

describe('file source', () => {
  it('registers as connector type file and validates its config', () => {
    expect(registry.getConnector('file')?.unbounded?.({} as never)).toBe(false);
    expect(() => source({ path: 'x.csv', csv: { delimiter: ';;' } })).toThrow(expect.objectContaining({ code: 'SLUICE_CONFIG_INVALID' }));
    expect(() => source({ path: 'x.csv', format: 'avro' })).toThrow(/config\.format/);
  });

  it('reports progress through a text file as bytes read of its size', async () => {
    const path = join(dir, 'progress.csv');
    const text = `id,name\n${Array.from({ length: 10 }, (_, i) => `${i},n${i}`).join('\n')}\n`;
    writeFileSync(path, text);
    const batches = await collect(source({ path }).read(path, undefined, readContext()));
    const progress = batches.map((b) => b.meta.progress!);
    expect(progress.every((p) => p.total === Buffer.byteLength(text))).toBe(true);
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    expect(progress.at(-1)!.done).toBe(Buffer.byteLength(text));
  });

  it('lists the files of a directory, a glob or a single file as sorted partitions', async () => {
    const d = join(dir, 'list');
    mkdirSync(join(d, 'sub'), { recursive: true });
    for (const name of ['b.csv', 'a.csv', 'c.ndjson', '.hidden.csv', 'notes.txt', 'sub/d.csv']) writeFileSync(join(d, name), 'x\n');
    expect(await source({ path: d }).partitions()).toEqual(['a.csv', 'b.csv', 'c.ndjson'].map((n) => join(d, n)));
    expect(await source({ path: d, format: 'csv' }).partitions()).toEqual(['a.csv', 'b.csv'].map((n) => join(d, n)));
    expect(await source({ path: `${d}/**/*.csv` }).partitions()).toEqual(['a.csv', 'b.csv', 'sub/d.csv'].map((n) => join(d, n)));
    expect(await source({ path: join(d, 'a.csv') }).partitions()).toEqual([join(d, 'a.csv')]);
    await expect(source({ path: join(d, 'missing.csv') }).partitions()).rejects.toMatchObject({ code: 'SLUICE_NOT_FOUND' });
  });

  it('emits batches with meta and dead letters, a 0-row batch when a chunk is all dead letters, and resumes', async () => {
    const path = join(dir, 'orders.ndjson');
    writeFileSync(path, ['{"id":1}', '{"id":2}', 'bad', 'worse', '{"id":"x"}', 'oops', '{"id":3}'].join('\n'));
    const src = source({ path, sample_size: 2 });
    const batches = await collect(src.read(path, undefined, readContext()));
    expect(batches.map((b) => [b.data.numRows, b.meta.deadLetters!.length])).toEqual([
      [2, 1],
      [0, 3],
      [1, 0],
    ]);
    expect(batches[0].meta).toMatchObject({ stream: 'orders', partition: path, kind: 'records', position: { offset: 22, line: 3 } });
    expect(batches[1].data.schema.fields.map((f) => f.name)).toEqual(['id']);
    expect(batches[1].meta.deadLetters!.map((d) => [d.node, d.origin, d.record])).toEqual([
      ['orders', { file: path, line: 4 }, 'worse'],
      ['orders', { file: path, line: 5 }, '{"id":"x"}'],
      ['orders', { file: path, line: 6 }, 'oops'],
    ]);
    const rest = await collect(src.read(path, batches[1].meta.position, readContext()));
    expect(rest.flatMap((b) => rowsOf(b.data))).toEqual([{ id: 3 }]);
    await src.commit(path, batches[0].meta.position!);
    await src.close();
  });

  it('reads .tsv files tab-separated unless a delimiter is set', async () => {
    const path = join(dir, 'people.tsv');
    writeFileSync(path, 'name\tcity\nAda\tLondon, UK\n');
    const batches = await collect(source({ path }).read(path, undefined, readContext()));
    expect(rowsOf(batches[0].data)).toEqual([{ name: 'Ada', city: 'London, UK' }]);
  });

  it('completes without a batch for an empty file', async () => {
    const path = join(dir, 'empty.csv');
    writeFileSync(path, '');
    expect(await collect(source({ path }).read(path, undefined, readContext()))).toEqual([]);
  });

  it('fails with SLUICE_SOURCE_FAILED when a JSON file is not an array', async () => {
    const path = join(dir, 'object.json');
    writeFileSync(path, '{"a":1}');
    await expect(collect(source({ path }).read(path, undefined, readContext()))).rejects.toMatchObject({ code: 'SLUICE_SOURCE_FAILED' });
  });
});
