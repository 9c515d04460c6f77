import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBatchFromRows } from '../../src/core/batch.js';
import { writeBatches } from '../../src/control-plane/routes/data/datasource-io.js';
import { loadSinkConfig } from '../../src/pipeline/steps/connector-configs.js';
import { readAll } from '../formats/helpers.js';
import { withFileSizeLimit } from '../support/file-size-limit.js';
import { auth, silent, startServer, type TestServer } from './helpers.js';

describe('/data/write mode replace on file datasources', () => {
  let server: TestServer;
  let dir: string;
  const write = (payload: object) => server.app.inject({ method: 'POST', url: '/api/v1/data/write', payload, headers: auth('operator') });
  const snapshot = (path: string) =>
    Object.fromEntries(
      readdirSync(path)
        .sort()
        .map((name) => [name, readFileSync(join(path, name), 'base64')]),
    );
  const datasetRows = async (path: string) => {
    const rows = [];
    for (const name of readdirSync(path).sort()) rows.push(...(await readAll(join(path, name), 'parquet')).rows);
    return rows;
  };
  const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: from + i, note: `row ${from + i}` }));

  beforeAll(async () => {
    server = await startServer('pglite');
    dir = join(server.stateDir, 'files');
    mkdirSync(dir);
    for (const [name, config] of [
      ['dataset', { path: join(dir, 'dataset'), format: 'parquet' }],
      ['export', { path: join(dir, 'export.ndjson') }],
    ] as const) {
      const connected = await server.app.inject({
        method: 'POST',
        url: '/api/v1/datasources/connect',
        payload: { name, type: 'file', config },
        headers: auth('admin'),
      });
      expect(connected.statusCode, connected.body).toBe(201);
    }
  });
  afterAll(() => server?.close());

  it('replaces a parquet dataset whole and leaves nothing staged', async () => {
    expect((await write({ source_name: 'dataset', data: rows(0, 1000), mode: 'append' })).statusCode).toBe(200);
    expect((await write({ source_name: 'dataset', data: rows(1000, 500), mode: 'append' })).statusCode).toBe(200);
    expect(await datasetRows(join(dir, 'dataset'))).toHaveLength(1500);
    const replaced = await write({ source_name: 'dataset', data: rows(5000, 3), mode: 'replace' });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(await datasetRows(join(dir, 'dataset'))).toEqual(rows(5000, 3));
    expect(readdirSync(dir).sort()).toEqual(['dataset']);
  });

  it('replaces an NDJSON file whole', async () => {
    expect((await write({ source_name: 'export', data: rows(0, 10), mode: 'append' })).statusCode).toBe(200);
    expect((await write({ source_name: 'export', data: rows(100, 2), mode: 'replace' })).statusCode).toBe(200);
    expect((await readAll(join(dir, 'export.ndjson'), 'ndjson')).rows).toEqual(rows(100, 2));
    expect(readdirSync(dir).sort()).toEqual(['dataset', 'export.ndjson']);
  });

  it('a replace whose writing fails part way (the disk fills up) leaves the old dataset intact', async () => {
    const ds = { type: 'file', config: { path: join(dir, 'dataset'), format: 'parquet' } };
    const before = snapshot(join(dir, 'dataset'));
    const config = await loadSinkConfig(ds, { mode: 'replace', create_table: true });
    const batches = [
      recordBatchFromRows(rows(0, 10)),
      recordBatchFromRows(Array.from({ length: 50_000 }, (_, i) => ({ id: i, note: `${i}`.repeat(20) }))),
    ];
    await withFileSizeLimit(64 * 1024, () => expect(writeBatches(ds, config, batches, silent)).rejects.toThrow(/EFBIG|too large/i));
    expect(snapshot(join(dir, 'dataset'))).toEqual(before);
    expect(await datasetRows(join(dir, 'dataset'))).toEqual(rows(5000, 3));
  });
});
