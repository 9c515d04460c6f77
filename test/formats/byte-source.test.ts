import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet, localFileSource, readRecords, type FormatName } from '../../src/formats/index.js';
import { readAll, tempDir, writeTemp } from './helpers.js';
import { MemoryByteSource } from './memory-byte-source.js';

const dir = tempDir('sluice-byte-source-');

function parquetOf(rows: number, rowGroupSize: number): Uint8Array {
  const fields = [new Field('id', new Int64(), true), new Field('s', new Utf8(), true)];
  const columns = [
    vectorFromArray(
      Array.from({ length: rows }, (_, i) => BigInt(i)),
      new Int64(),
    ),
    vectorFromArray(
      Array.from({ length: rows }, (_, i) => `row ${i} ü😀 ${'x'.repeat(i % 40)}`),
      new Utf8(),
    ),
  ];
  const batch = new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: columns.map((c) => c.data[0]) }),
  );
  return encodeParquet(batch, { rowGroupSize });
}

async function xlsxOf(rows: number): Promise<Uint8Array> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Data');
  sheet.addRow(['id', 'name', 'when']);
  for (let i = 0; i < rows; i++) sheet.addRow([i, `näme ${i}`, i === 40 ? 'not a date' : new Date(Date.UTC(2024, 0, 1 + i))]);
  return new Uint8Array(await book.xlsx.writeBuffer());
}

const lines = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('');

/** One file of each format, each with a record that is dead-lettered where the format has them. */
const FIXTURES: Record<FormatName, () => Promise<Uint8Array> | Uint8Array> = {
  ndjson: () =>
    Buffer.from(
      lines(60, (i) => (i === 17 ? '{"id": 17, broken\n' : `${JSON.stringify({ id: i, name: `Zoë 東京 ${i}`, nested: { a: [i] } })}\n`)),
    ),
  json: () =>
    Buffer.from(
      `[\n${lines(60, (i) => `${i > 0 ? ',' : ''}${i === 9 ? '"not an object"' : JSON.stringify({ id: i, name: `Zoë ${i}` })}\n`)}]\n`,
    ),
  csv: () =>
    Buffer.from(`\ufeffid,name,note\n${lines(60, (i) => (i === 30 ? '30,"a,b,c\n' : `${i},"Zoë, ${i}","line one\nline two ${i}"\r\n`))}`),
  parquet: () => parquetOf(500, 120),
  xlsx: () => xlsxOf(60),
  xml: () =>
    Buffer.from(
      `<?xml version="1.0"?>\n<rows>${lines(60, (i) => `<row id="${i}"><name>Zoë ${i}</name><amount>${i === 40 ? 'n/a' : i * 1.5}</amount></row>`)}</rows>`,
    ),
};

const files = {} as Record<FormatName, { path: string; bytes: Uint8Array }>;
beforeAll(async () => {
  for (const [format, make] of Object.entries(FIXTURES) as [FormatName, () => Promise<Uint8Array> | Uint8Array][]) {
    const bytes = await make();
    files[format] = { path: writeTemp(dir, `data.${format}`, bytes), bytes };
  }
});

describe.each(Object.keys(FIXTURES) as FormatName[])('%s over a byte source', (format) => {
  const options = { batchSize: 25, sampleSize: 10 };

  it('reads the same chunks, rows and dead letters from memory as from the file', async () => {
    const { path, bytes } = files[format];
    const fromFile = await readAll(path, format, options);
    // Named as the file, so dead-letter origins compare equal; 7-byte pieces split records and characters.
    const fromMemory = await readAll(new MemoryByteSource(path, bytes, 7), format, options);
    expect(fromFile.rows.length).toBeGreaterThan(50);
    expect(fromMemory.rows).toEqual(fromFile.rows);
    expect(fromMemory.deadLetters).toEqual(fromFile.deadLetters);
    expect(fromMemory.chunks.map((c) => c.position)).toEqual(fromFile.chunks.map((c) => c.position));
    if (format !== 'parquet') expect(fromFile.deadLetters).toHaveLength(1);
  });

  it('resumes from every position it emitted', async () => {
    const { path, bytes } = files[format];
    const all = await readAll(new MemoryByteSource(path, bytes, 64), format, options);
    let consumed = 0;
    for (const chunk of all.chunks) {
      consumed += chunk.data.numRows;
      const source = new MemoryByteSource(path, bytes, 64);
      const rest = await readAll(source, format, { ...options, from: chunk.position });
      expect(rest.rows).toEqual(all.rows.slice(consumed));
      const offset = (chunk.position as { offset?: number }).offset;
      // Text formats sample the head again for the schema, then read on from the offset, not from the start.
      if (offset !== undefined) expect(source.opens).toEqual(offset > 0 ? [0, offset] : [0]);
    }
  });
});

// Parquet reads by range, not by stream: see below.
it.each(['ndjson', 'json', 'csv', 'xlsx', 'xml'] as const)(
  'fails a %s read with the source error when its stream breaks part way',
  async (format) => {
    const { path, bytes } = files[format];
    const source = new MemoryByteSource(path, bytes, 64);
    source.failStreamAt = Math.floor(bytes.length / 2);
    await expect(readAll(source, format, { batchSize: 25, sampleSize: 10 })).rejects.toThrow('connection reset');
  },
);

describe('parquet over a byte source', () => {
  it('reads the footer and the row groups it needs by range, never the whole file', async () => {
    const bytes = parquetOf(5000, 500);
    const resumed = new MemoryByteSource('groups.parquet', bytes);
    const tail = await readAll(resumed, 'parquet', { from: { row_group: 9, row: 0 } });
    expect(tail.rows.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(4500 + i)));
    expect(resumed.opens).toEqual([]);
    // The footer plus one group of ten: well under a fifth of the file.
    expect(resumed.bytesRequested).toBeGreaterThan(0);
    expect(resumed.bytesRequested).toBeLessThan(bytes.length / 5);

    const whole = new MemoryByteSource('groups.parquet', bytes);
    expect((await readAll(whole, 'parquet')).rows).toHaveLength(5000);
    // Reading every group fetches each byte at most once.
    const sorted = [...whole.ranges].sort((a, b) => a[0] - b[0]);
    sorted.forEach(([offset], i) => i > 0 && expect(offset).toBeGreaterThanOrEqual(sorted[i - 1][0] + sorted[i - 1][1]));
    expect(whole.bytesRequested).toBeLessThanOrEqual(bytes.length);
  });
});

describe('parquet reads that fail', () => {
  // Reading 5 groups of 100 rows: reads 0-2 are the footer, 3 onwards one row group each.
  const bytes = parquetOf(500, 100);

  it.each([
    ['the footer', 1],
    ['a row group', 5],
  ])('fail the read with the source error when a read of %s fails', async (_, failRead) => {
    const source = new MemoryByteSource('flaky.parquet', bytes);
    source.failRead = failRead;
    const error = await readAll(source, 'parquet', { batchSize: 100 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SLUICE_SOURCE_FAILED', retriable: true, message: expect.stringContaining('connection reset') });
    expect(source.ranges).toHaveLength(failRead + 1);
  });

  it('fail, not retriable, when the local file is replaced part way through', async () => {
    const path = writeTemp(dir, 'replaced.parquet', bytes);
    const chunks = readRecords(localFileSource(path), 'parquet', { batchSize: 100 });
    expect((await chunks.next()).value!.data.numRows).toBe(100);
    writeFileSync(path, parquetOf(2000, 100));
    const error = await (async () => {
      for await (const chunk of chunks) expect(chunk.data.numRows).toBe(100);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SLUICE_SOURCE_FAILED', retriable: false, message: `${path} changed while it was being read` });
  });
});

it('fails the read of an xlsx file that cannot be opened', async () => {
  const path = join(dir, 'missing.xlsx');
  await expect(readAll(path, 'xlsx')).rejects.toMatchObject({ code: 'SLUICE_SOURCE_FAILED', message: expect.stringContaining('ENOENT') });
});

describe('local file byte source', () => {
  it('streams from an offset, reads ranges short at the end, and changes version with the content', async () => {
    const path = join(dir, 'local.txt');
    writeFileSync(path, '0123456789');
    const source = localFileSource(path);
    const streamed: Buffer[] = [];
    for await (const chunk of source.open(4)) streamed.push(Buffer.from(chunk));
    expect(Buffer.concat(streamed).toString()).toBe('456789');
    expect(Buffer.from(await source.readRange(2, 3)).toString()).toBe('234');
    expect(Buffer.from(await source.readRange(8, 10)).toString()).toBe('89');
    const before = await source.stat();
    expect(before.size).toBe(10);
    writeFileSync(path, '0123456789abc');
    const after = await source.stat();
    expect(after.size).toBe(13);
    expect(after.version).not.toBe(before.version);
    expect(readFileSync(path, 'utf8')).toBe('0123456789abc');
  });
});
