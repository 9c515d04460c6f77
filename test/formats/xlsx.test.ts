import { join } from 'node:path';
import { DataType } from 'apache-arrow';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatFromPath, readRecords } from '../../src/formats/index.js';
import { readAll, tempDir } from './helpers.js';

const dir = tempDir('sluice-xlsx-');
const day = (d: number) => new Date(Date.UTC(2024, 0, d, 12, 30));

/** A workbook with a decoy first sheet and an `Orders` sheet exercising each cell kind. */
async function writeOrders(path: string): Promise<void> {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('Notes').addRow(['not the data']);
  const sheet = book.addWorksheet('Orders');
  sheet.addRow(['id', 'customer', 'amount', 'paid', 'placed', 'total', 'note']);
  sheet.addRow([1, 'Zoë Ångström', 10.5, true, day(1), { formula: 'C2*2', result: 21 }, 'first']);
  sheet.addRow([2, '東京', null, false, day(2), { formula: 'C3*2', result: 0 }, 7]);
  sheet.addRow([3, { richText: [{ text: 'Rich ' }, { text: 'Text' }] }, 3, null, null, null, true]);
  await book.xlsx.writeFile(path);
}

describe('xlsx reader', () => {
  const orders = join(dir, 'orders.xlsx');
  beforeAll(() => writeOrders(orders));

  it('maps cell kinds to Arrow types: numbers, booleans, dates, formula results, rich text, nulls, unicode', async () => {
    const { chunks, rows, deadLetters } = await readAll(orders, 'xlsx', { xlsx: { sheet: 'Orders' } });
    expect(deadLetters).toEqual([]);
    const types = Object.fromEntries(
      chunks[0].data.schema.fields.map((f) => [f.name, DataType.isTimestamp(f.type) ? `ts:${f.type.timezone}` : String(f.type)]),
    );
    expect(types).toEqual({
      id: 'Float64',
      customer: 'Utf8',
      amount: 'Float64',
      paid: 'Bool',
      placed: 'ts:UTC',
      total: 'Float64',
      note: 'Utf8',
    });
    expect(rows).toEqual([
      { id: 1, customer: 'Zoë Ångström', amount: 10.5, paid: true, placed: day(1).getTime(), total: 21, note: 'first' },
      { id: 2, customer: '東京', amount: null, paid: false, placed: day(2).getTime(), total: 0, note: '7' },
      { id: 3, customer: 'Rich Text', amount: 3, paid: null, placed: null, total: null, note: 'true' },
    ]);
  });

  it('picks a sheet by index and by default reads the first one', async () => {
    expect((await readAll(orders, 'xlsx', { xlsx: { sheet: 1 } })).rows).toHaveLength(3);
    const first = await readAll(orders, 'xlsx');
    expect(first.rows).toEqual([]);
    expect(first.chunks).toEqual([]);
    await expect(readAll(orders, 'xlsx', { xlsx: { sheet: 'Missing' } })).rejects.toThrow(
      /no sheet "Missing" \(sheets: "Notes", "Orders"\)/,
    );
  });

  it('chunks by batchSize and resumes after the row of a chunk position with the same schema', async () => {
    const path = join(dir, 'many.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('data');
    sheet.addRow(['n', 'label']);
    for (let n = 1; n <= 25; n++) sheet.addRow([n, `row ${n}`]);
    await book.xlsx.writeFile(path);

    const all = await readAll(path, 'xlsx', { batchSize: 10, sampleSize: 5 });
    expect(all.chunks.map((c) => c.data.numRows)).toEqual([10, 10, 5]);
    expect(all.chunks.map((c) => c.position)).toEqual([{ row: 11 }, { row: 21 }, { row: 26 }]);

    const rest = await readAll(path, 'xlsx', { batchSize: 10, sampleSize: 5, from: all.chunks[0].position });
    expect(rest.rows.map((r) => r.n)).toEqual(Array.from({ length: 15 }, (_, i) => i + 11));
    expect(String(rest.chunks[0].data.schema.fields[0].type)).toBe('Float64');
    expect((await readAll(path, 'xlsx', { from: { row: 26 } })).rows).toEqual([]);
    await expect(readAll(path, 'xlsx', { from: { offset: 3 } })).rejects.toThrow(/not an xlsx position/);
  });

  it('dead-letters rows wider than the header, error cells and cells that do not fit a typed column', async () => {
    const path = join(dir, 'bad.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Sheet A');
    sheet.addRow(['id', 'amount']);
    sheet.addRow([1, 5]);
    sheet.addRow([2, 6, 'extra']);
    sheet.addRow([3, { formula: '1/0', result: { error: '#DIV/0!' } }]);
    sheet.addRow([4, 7]);
    sheet.addRow([5, 'eight']);
    sheet.addRow([6, { error: '#N/A' }]);
    await book.xlsx.writeFile(path);

    const { rows, deadLetters } = await readAll(path, 'xlsx', { sampleSize: 2, node: 'orders' });
    expect(rows).toEqual([
      { id: 1, amount: 5 },
      { id: 4, amount: 7 },
    ]);
    expect(deadLetters).toEqual([
      {
        node: 'orders',
        reason: 'row has 3 cells, the header names 2 columns',
        record: { id: '2', amount: '6', column_3: 'extra' },
        origin: { file: path, sheet: 'Sheet A', row: 3 },
      },
      {
        node: 'orders',
        reason: 'column "amount": cell error (formula error)',
        record: { id: '3', amount: '(formula error)' },
        origin: { file: path, sheet: 'Sheet A', row: 4 },
      },
      {
        node: 'orders',
        reason: 'column "amount": string "eight" does not fit a float column',
        record: { id: '5', amount: 'eight' },
        origin: { file: path, sheet: 'Sheet A', row: 6 },
      },
      {
        node: 'orders',
        reason: 'column "amount": cell error #N/A',
        record: { id: '6', amount: '#N/A' },
        origin: { file: path, sheet: 'Sheet A', row: 7 },
      },
    ]);
  });

  it('is chosen by the .xlsx extension and streams without reading the whole sheet first', async () => {
    expect(formatFromPath('/data/Report.XLSX')).toBe('xlsx');
    const path = join(dir, 'stop.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('s');
    sheet.addRow(['n']);
    for (let n = 1; n <= 50; n++) sheet.addRow([n]);
    await book.xlsx.writeFile(path);
    // The first chunk arrives before the sheet ends; stopping there ends the read cleanly.
    for await (const chunk of readRecords(path, 'xlsx', { batchSize: 5, sampleSize: 5 })) {
      expect(chunk.position).toEqual({ row: 6 });
      break;
    }
  });

  it('keeps characters whole where the inflated sheet and shared strings are cut into chunks', async () => {
    const path = join(dir, 'unicode.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('s');
    sheet.addRow(['id', 'name']);
    const name = (i: number) => `näme ${i} 東京 😀`;
    for (let i = 0; i < 3000; i++) sheet.addRow([i, name(i)]);
    await book.xlsx.writeFile(path);
    const { rows } = await readAll(path, 'xlsx');
    expect(rows).toHaveLength(3000);
    expect(rows.filter((row) => row.name !== name(row.id as number))).toEqual([]);
  });
});
