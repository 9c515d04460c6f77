import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/core/batch.js';
import { encodeCsv } from '../../src/formats/index.js';
import { readAll, tempDir, writeTemp } from './helpers.js';

const dir = tempDir();

describe('CSV reader', () => {
  it('reads BOM, CRLF, quoted delimiters, quoted newlines, doubled quotes, unicode and nulls', async () => {
    const text = '\uFEFFid,name,note\r\n1,"Smith, J","said ""hi"""\r\n2,"two\r\nlines ü",\r\n3,日本語,""\r\n';
    const { rows, deadLetters } = await readAll(writeTemp(dir, 'quoting.csv', text), 'csv');
    expect(deadLetters).toEqual([]);
    expect(rows).toEqual([
      { id: 1, name: 'Smith, J', note: 'said "hi"' },
      { id: 2, name: 'two\r\nlines ü', note: null },
      { id: 3, name: '日本語', note: '' },
    ]);
  });

  it('infers Float64 for safe ints, Int64 for big ones, Float64, Bool, Timestamp and Utf8', async () => {
    const text = [
      'i,big,f,b,d,t,s,empty',
      '1,9007199254740993,1.5,true,2024-01-05,2024-01-05T10:00:00Z,x,',
      '-2,1,2e3,FALSE,2024-02-29,2024-01-05 10:00:00.250,7,',
    ].join('\n');
    const { chunks, rows } = await readAll(writeTemp(dir, 'types.csv', text), 'csv');
    const types = Object.fromEntries(chunks[0].data.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toEqual({
      i: 'Float64',
      big: 'Int64',
      f: 'Float64',
      b: 'Bool',
      d: 'Timestamp<MILLISECOND, UTC>',
      t: 'Timestamp<MILLISECOND, UTC>',
      s: 'Utf8',
      empty: 'Utf8',
    });
    expect(rows[0]).toMatchObject({
      i: 1,
      big: 9007199254740993n,
      f: 1.5,
      b: true,
      d: Date.UTC(2024, 0, 5),
      t: Date.UTC(2024, 0, 5, 10),
      s: 'x',
      empty: null,
    });
    // A timestamp without a zone is UTC.
    expect(rows[1]).toMatchObject({
      i: -2,
      big: 1n,
      f: 2000,
      b: false,
      d: Date.UTC(2024, 1, 29),
      t: Date.UTC(2024, 0, 5, 10, 0, 0, 250),
      s: '7',
    });
  });

  it('keeps every column Utf8 without type inference, and names columns without a header', async () => {
    const path = writeTemp(dir, 'plain.csv', '1;true\n2;false\n');
    const { chunks, rows } = await readAll(path, 'csv', { csv: { header: false, delimiter: ';', inferTypes: false } });
    expect(chunks[0].data.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['column_1:Utf8', 'column_2:Utf8']);
    expect(rows).toEqual([
      { column_1: '1', column_2: 'true' },
      { column_1: '2', column_2: 'false' },
    ]);
  });

  it('uses a custom quote character', async () => {
    const { rows } = await readAll(writeTemp(dir, 'quote.csv', "a,b\n'x, y',''''\n"), 'csv', { csv: { quote: "'" } });
    expect(rows).toEqual([{ a: 'x, y', b: "'" }]);
  });

  it('dead-letters malformed records with file, line and reason and keeps reading', async () => {
    const lines = ['id,amount', '1,10', 'oops', '3,abc', '4,"x"y', '5,50', '6,"never closed'];
    const path = writeTemp(dir, 'bad.csv', lines.join('\n') + '\n');
    const { chunks, rows, deadLetters } = await readAll(path, 'csv', { sampleSize: 2, batchSize: 2, node: 'in' });
    expect(rows).toEqual([
      { id: 1, amount: 10 },
      { id: 5, amount: 50 },
    ]);
    expect(deadLetters.map((d) => [d.origin, d.record])).toEqual([
      [{ file: path, line: 3 }, 'oops'],
      [{ file: path, line: 4 }, '3,abc'],
      [{ file: path, line: 5 }, '4,"x"y'],
      [{ file: path, line: 7 }, '6,"never closed'],
    ]);
    expect(deadLetters[0].reason).toBe('expected 2 fields, got 1');
    expect(deadLetters[1].reason).toBe('column "amount": "abc" is not a number (Float64)');
    expect(deadLetters[2].reason).toMatch(/after closing quote in field 2/);
    expect(deadLetters[3].reason).toMatch(/unclosed quote/);
    expect(deadLetters.every((d) => d.node === 'in')).toBe(true);
    // The short record sat in the sample but did not turn `id` into text.
    expect(String(chunks[0].data.schema.fields[0].type)).toBe('Float64');
    // Reconciles: 6 records in the file = 2 rows + 4 dead letters.
    expect(rows.length + deadLetters.length).toBe(lines.length - 1);
  });

  it('dead-letters a fractional value in an Int64 column and an unsafe integer in a Float64 column', async () => {
    const path = writeTemp(dir, 'widen.csv', 'big,small\n9007199254740993,1\n1.5,2\n3,9007199254740993\n4,2.5\n');
    const { rows, deadLetters } = await readAll(path, 'csv', { sampleSize: 1 });
    expect(rows).toEqual([
      { big: 9007199254740993n, small: 1 },
      { big: 4n, small: 2.5 },
    ]);
    expect(deadLetters.map((d) => d.reason)).toEqual([
      'column "big": "1.5" is not an integer (Int64)',
      'column "small": "9007199254740993" is an integer too large for Float64 without losing precision',
    ]);
  });

  it('emits chunks of at most batchSize with the same schema, and resuming from any chunk yields exactly the rest', async () => {
    const text = ['n,label', ...Array.from({ length: 25 }, (_, i) => `${i},"row\n${i}"`)].join('\r\n');
    const path = writeTemp(dir, 'resume.csv', text);
    const all = await readAll(path, 'csv', { batchSize: 4, sampleSize: 3 });
    expect(all.chunks.map((c) => c.data.numRows)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    expect(new Set(all.chunks.map((c) => String(c.data.schema.fields.map(String))))).toEqual(new Set(['n: Float64,label: Utf8']));
    for (let k = 0; k < all.chunks.length; k++) {
      const rest = await readAll(path, 'csv', { batchSize: 4, sampleSize: 3, from: all.chunks[k].position });
      expect(rest.rows).toEqual(all.rows.slice((k + 1) * 4));
      if (rest.chunks.length > 0) expect(rest.chunks[0].data.schema).toEqual(all.chunks[0].data.schema);
    }
    expect(all.chunks.at(-1)!.position).toEqual({ offset: Buffer.byteLength(text), line: 50 });
  });

  it('yields no chunk for an empty file, a BOM-only file or a header-only file', async () => {
    for (const [name, text] of [
      ['empty.csv', ''],
      ['bom.csv', '\uFEFF'],
      ['header.csv', 'a,b\r\n'],
    ]) {
      expect((await readAll(writeTemp(dir, name, text), 'csv')).chunks).toEqual([]);
    }
  });
});

describe('CSV encoder', () => {
  it('round-trips nulls, empty strings, quotes, delimiters, newlines, unicode, Int64 and timestamps', async () => {
    const text = 'id,big,s,t\n1,9007199254740993,"a,""b""\nc",2024-01-05T10:00:00.000Z\n2,,,\n3,5,"",\n4,6,ü 😀,\n';
    const first = await readAll(writeTemp(dir, 'rt.csv', text), 'csv');
    const encoded = encodeCsv(first.chunks[0].data);
    expect(encoded).toBe(text);
    const second = await readAll(writeTemp(dir, 'rt2.csv', encoded), 'csv');
    expect(second.rows).toEqual(first.rows);
    expect(rowsOf(second.chunks[0].data)[2]).toEqual({ id: 3, big: 5n, s: '', t: null });
  });

  it('writes no header when asked and uses the delimiter given', () => {
    return readAll(writeTemp(dir, 'h.csv', 'a,b\n1,x;y\n'), 'csv').then(({ chunks }) => {
      expect(encodeCsv(chunks[0].data, { header: false, delimiter: ';', lineEnding: '\r\n' })).toBe('1;"x;y"\r\n');
    });
  });
});
