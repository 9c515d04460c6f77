import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAll, tempDir, writeTemp } from './helpers.js';

const dir = tempDir('sluice-hostile-');

/** `{"a":[[[...]]]}` nesting `depth` levels in all, the record itself being the first. */
const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

describe('deeply nested JSON records', () => {
  it('NDJSON: a record nested 50,000 levels deep (97 KiB) is one dead letter; the rest is read', async () => {
    const deep = nested(50_000);
    expect(deep.length).toBeGreaterThan(96 * 1024);
    const lines = ['{"a":"x","n":1}', deep, '{"a":"y","n":2}', '{"a":{"b":[1]},"n":3}'];
    const path = writeTemp(dir, 'deep.ndjson', lines.join('\n') + '\n');
    const { rows, deadLetters } = await readAll(path, 'ndjson');
    expect(rows).toEqual([
      { a: 'x', n: 1 },
      { a: 'y', n: 2 },
      { a: '{"b":[1]}', n: 3 },
    ]);
    expect(deadLetters.map((d) => [d.origin!.line, d.reason])).toEqual([[2, 'record nests deeper than max_depth (64 levels)']]);
    expect(deadLetters[0].record).toBe(deep);
    expect(rows.length + deadLetters.length).toBe(lines.length);
  });

  it('the depth limit is configurable and counts the record as level 1', async () => {
    const lines = [nested(3), nested(4), '{"a":1}'];
    const path = writeTemp(dir, 'depth.ndjson', lines.join('\n'));
    const { rows, deadLetters } = await readAll(path, 'ndjson', { json: { maxDepth: 3 } });
    expect(rows).toEqual([{ a: '[[]]' }, { a: '1' }]);
    expect(deadLetters.map((d) => [d.origin!.line, d.reason])).toEqual([[2, 'record nests deeper than max_depth (3 levels)']]);
  });

  it('JSON array: a deeply nested element is one dead letter', async () => {
    const path = writeTemp(dir, 'deep.json', `[\n{"a":"x"},\n${nested(20_000)},\n{"a":"y"}\n]\n`);
    const { rows, deadLetters } = await readAll(path, 'json');
    expect(rows).toEqual([{ a: 'x' }, { a: 'y' }]);
    expect(deadLetters.map((d) => [d.origin!.line, d.reason])).toEqual([[3, 'record nests deeper than max_depth (64 levels)']]);
  });
});

describe('records longer than max_record_bytes', () => {
  const ROWS = 200_000;
  const body = (from: number) => Array.from({ length: ROWS }, (_, i) => `${from + i},row number ${from + i} of many`).join('\n');

  it('CSV: an unterminated quote is one short dead letter; the 200,000 rows after it are read', async () => {
    const text = `id,name\n1,first\n2,"unterminated\n${body(3)}\n`;
    expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
    const path = writeTemp(dir, 'quote.csv', text);
    const { rows, deadLetters } = await readAll(path, 'csv', { batchSize: 5000 });
    expect(deadLetters.map((d) => [d.origin!.line, d.record])).toEqual([[3, '2,"unterminated']]);
    expect(deadLetters[0].reason).toMatch(/^record longer than max_record_bytes \(4194304 bytes\)/);
    expect(rows).toHaveLength(ROWS + 1);
    expect(rows[1]).toEqual({ id: 3, name: 'row number 3 of many' });
    expect(rows.at(-1)).toEqual({ id: ROWS + 2, name: `row number ${ROWS + 2} of many` });
    // Reconciles: every record of the file is a row or a dead letter.
    expect(rows.length + deadLetters.length).toBe(ROWS + 2);
  });

  it('CSV: a quote never closed before the end of the file only costs its own line', async () => {
    const text = `id,name\n1,first\n2,"unterminated\n${body(3)}\n`.slice(0, 1_000_000);
    const path = writeTemp(dir, 'quote-short.csv', text.slice(0, text.lastIndexOf('\n') + 1));
    const { rows, deadLetters } = await readAll(path, 'csv', { batchSize: 5000 });
    expect(deadLetters.map((d) => [d.origin!.line, d.record])).toEqual([[3, '2,"unterminated']]);
    expect(deadLetters[0].reason).toMatch(/unclosed quote.*file ends inside a quoted field/);
    const lines = text.slice(0, text.lastIndexOf('\n')).split('\n').length;
    expect(rows.length + deadLetters.length).toBe(lines - 1);
    expect(rows.at(-1)!.id).toBe(lines - 1);
  });

  it('NDJSON: a line longer than the limit is skipped to its end and kept only in part; resuming after it works', async () => {
    const huge = JSON.stringify({ blob: 'x'.repeat(300_000) });
    const lines = ['{"n":1}', huge, '{"n":2}', '{"n":3}'];
    const path = writeTemp(dir, 'long.ndjson', lines.join('\n') + '\n');
    const options = { maxRecordBytes: 100_000, batchSize: 1, sampleSize: 1 };
    const { chunks, rows, deadLetters } = await readAll(path, 'ndjson', options);
    expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(deadLetters.map((d) => [d.origin!.line, (d.record as string).length])).toEqual([[2, 64 * 1024]]);
    expect(deadLetters[0].record).toBe(huge.slice(0, 64 * 1024));
    expect(chunks.map((c) => c.position)).toEqual([
      { offset: 8, line: 1 },
      { offset: 8 + huge.length + 1, line: 2 },
      { offset: 16 + huge.length + 1, line: 3 },
      { offset: 24 + huge.length + 1, line: 4 },
    ]);
    const rest = await readAll(path, 'ndjson', { ...options, from: chunks[1].position });
    expect(rest.rows).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('JSON array: an element still open after the limit is dead-lettered from its first line, the next elements are read', async () => {
    const text = `[\n{"n":1},\n{"s":"unterminated,\n${Array.from({ length: 3000 }, (_, i) => `{"n":${i + 2}},`).join('\n')}\n{"n":0}\n]\n`;
    const path = writeTemp(dir, 'open.json', text);
    const { rows, deadLetters } = await readAll(path, 'json', { maxRecordBytes: 10_000 });
    expect(deadLetters.map((d) => [d.origin!.line, d.record])).toEqual([[3, '{"s":"unterminated,']]);
    expect(rows).toHaveLength(3002);
    expect(rows.at(-1)).toEqual({ n: 0 });
  });
});

describe('xlsx inflation limits', () => {
  const path = join(dir, 'strings.xlsx');
  beforeAll(async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('data');
    sheet.addRow(['id', 'text']);
    for (let i = 0; i < 3000; i++) sheet.addRow([i, `distinct text number ${i}`]);
    await book.xlsx.writeFile(path);
  });

  it('reads a workbook within the limits', async () => {
    const { rows, deadLetters } = await readAll(path, 'xlsx');
    expect(rows).toHaveLength(3000);
    expect(deadLetters).toEqual([]);
  });

  it('refuses a workbook whose shared strings inflate past the limit, with the limit named', async () => {
    await expect(readAll(path, 'xlsx', { xlsx: { maxSharedStringsBytes: 20_000 } })).rejects.toMatchObject({
      code: 'SLUICE_SOURCE_FAILED',
      retriable: false,
      message: expect.stringContaining('shared strings inflate past xlsx.max_shared_strings_bytes (20000 bytes)'),
    });
  });

  it('refuses a workbook whose parts inflate past the limit in all', async () => {
    await expect(readAll(path, 'xlsx', { xlsx: { maxInflatedBytes: 100_000 } })).rejects.toMatchObject({
      code: 'SLUICE_SOURCE_FAILED',
      message: expect.stringContaining('inflate past xlsx.max_inflated_bytes (100000 bytes)'),
    });
  });
});
