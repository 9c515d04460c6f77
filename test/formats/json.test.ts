import { Field, Int64, RecordBatch, Schema, TimestampMillisecond, Utf8, makeData, Struct, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { encodeJsonArray, encodeNdjson } from '../../src/formats/index.js';
import { readAll, tempDir, writeTemp } from './helpers.js';

const dir = tempDir();

describe('NDJSON reader', () => {
  it('reads objects with nulls, unicode, nested values, CRLF and a BOM; infers columns from the sample', async () => {
    const text =
      '\uFEFF{"id":1,"name":"Zoë 😀","ok":true,"tags":["a"]}\r\n\r\n{"id":2,"name":null,"extra":{"k":1}}\r\n{"id":3.5,"ok":false}';
    const { chunks, rows, deadLetters } = await readAll(writeTemp(dir, 'a.ndjson', text), 'ndjson');
    expect(deadLetters).toEqual([]);
    expect(chunks[0].data.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'id:Float64',
      'name:Utf8',
      'ok:Bool',
      'tags:Utf8',
      'extra:Utf8',
    ]);
    expect(rows).toEqual([
      { id: 1, name: 'Zoë 😀', ok: true, tags: '["a"]', extra: null },
      { id: 2, name: null, ok: null, tags: null, extra: '{"k":1}' },
      { id: 3.5, name: null, ok: false, tags: null, extra: null },
    ]);
  });

  it('dead-letters bad lines with line and reason; good rows still come out and counts reconcile', async () => {
    const lines = ['{"a":1}', '{"a":', '[1,2]', '{"a":"x"}', '', '{"a":2,"b":3}', '{"a":4}'];
    const path = writeTemp(dir, 'bad.ndjson', lines.join('\n') + '\n');
    const { rows, deadLetters } = await readAll(path, 'ndjson', { sampleSize: 1, batchSize: 2 });
    expect(rows).toEqual([{ a: 1 }, { a: 4 }]);
    expect(deadLetters.map((d) => [d.origin!.line, d.record])).toEqual([
      [2, '{"a":'],
      [3, '[1,2]'],
      [4, '{"a":"x"}'],
      [6, '{"a":2,"b":3}'],
    ]);
    expect(deadLetters[0].reason).toMatch(/^invalid JSON: /);
    expect(deadLetters[1].reason).toBe('record is not a JSON object (got array)');
    expect(deadLetters[2].reason).toBe('field "a": expected a number, got string');
    expect(deadLetters[3].reason).toBe('field "b" is not in the schema inferred from the first 1 records');
    expect(deadLetters.every((d) => d.origin!.file === path)).toBe(true);
    expect(rows.length + deadLetters.length).toBe(lines.filter((l) => l !== '').length);
  });

  it('emits a chunk with zero rows when a whole batch is dead letters', async () => {
    const path = writeTemp(dir, 'zero.ndjson', '{"a":1}\nx\ny\nz\n{"a":2}\n');
    const { chunks } = await readAll(path, 'ndjson', { batchSize: 2, sampleSize: 1 });
    expect(chunks.map((c) => [c.data.numRows, c.deadLetters.length])).toEqual([
      [1, 1],
      [0, 2],
      [1, 0],
    ]);
    expect(chunks[1].data.schema.fields.map((f) => f.name)).toEqual(['a']);
  });

  it('resuming from each chunk position yields exactly the rest', async () => {
    const text = Array.from({ length: 23 }, (_, i) => JSON.stringify({ i, s: `ü${i}` })).join('\n');
    const path = writeTemp(dir, 'resume.ndjson', text);
    const all = await readAll(path, 'ndjson', { batchSize: 5 });
    expect(all.rows).toHaveLength(23);
    for (let k = 0; k < all.chunks.length; k++) {
      const rest = await readAll(path, 'ndjson', { batchSize: 5, from: all.chunks[k].position });
      expect(rest.rows).toEqual(all.rows.slice((k + 1) * 5));
    }
  });

  it('yields no chunk for an empty file', async () => {
    expect((await readAll(writeTemp(dir, 'empty.ndjson', ''), 'ndjson')).chunks).toEqual([]);
    expect((await readAll(writeTemp(dir, 'blank.ndjson', '\n\r\n'), 'ndjson')).chunks).toEqual([]);
  });
});

describe('JSON array reader', () => {
  it('streams the elements of a top-level array, with strings holding brackets, commas and escapes', async () => {
    const text = '\uFEFF [\n  {"a": 1, "s": "x,]}[{\\"q\\""},\n  {"a": 2, "s": "ü", "n": {"deep": [1, {"x": 2}]}}\n]\n';
    const { rows, deadLetters } = await readAll(writeTemp(dir, 'arr.json', text), 'json');
    expect(deadLetters).toEqual([]);
    expect(rows).toEqual([
      { a: 1, s: 'x,]}[{"q"', n: null },
      { a: 2, s: 'ü', n: '{"deep":[1,{"x":2}]}' },
    ]);
  });

  it('dead-letters bad elements with their line, content after the array and a missing closing bracket', async () => {
    const text = '[\n{"a":1},\n{"a": oops},\n"str",\n{"a":2}\n] trailing';
    const path = writeTemp(dir, 'bad.json', text);
    const { rows, deadLetters } = await readAll(path, 'json');
    expect(rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(deadLetters.map((d) => [d.origin!.line, d.record])).toEqual([
      [3, '{"a": oops}'],
      [4, '"str"'],
      [6, 'trailing'],
    ]);
    expect(deadLetters[2].reason).toBe('content after the closing ] of the array');
    const cut = await readAll(writeTemp(dir, 'cut.json', '[{"a":1},\n{"a":2'), 'json');
    expect(cut.rows).toEqual([{ a: 1 }]);
    expect(cut.deadLetters.map((d) => [d.origin!.line, d.reason])).toEqual([[2, 'file ends before the closing ] of the array']]);
  });

  it('fails the read when the file is not an array', async () => {
    await expect(readAll(writeTemp(dir, 'obj.json', '{"a":1}'), 'json')).rejects.toMatchObject({ code: 'SLUICE_SOURCE_FAILED' });
  });

  it('resumes from each chunk position with exactly the rest; [] and empty files yield nothing', async () => {
    const text = JSON.stringify(
      Array.from({ length: 17 }, (_, i) => ({ i })),
      null,
      2,
    );
    const path = writeTemp(dir, 'resume.json', text);
    const all = await readAll(path, 'json', { batchSize: 4 });
    expect(all.rows.map((r) => r.i)).toEqual(Array.from({ length: 17 }, (_, i) => i));
    for (let k = 0; k < all.chunks.length; k++) {
      const rest = await readAll(path, 'json', { batchSize: 4, from: all.chunks[k].position });
      expect(rest.rows).toEqual(all.rows.slice((k + 1) * 4));
    }
    expect((await readAll(writeTemp(dir, 'none.json', ' [ ]\n'), 'json')).chunks).toEqual([]);
    expect((await readAll(writeTemp(dir, 'empty.json', ''), 'json')).chunks).toEqual([]);
  });
});

describe('JSON encoders', () => {
  const fields = [
    new Field('big', new Int64(), true),
    new Field('t', new TimestampMillisecond('UTC'), true),
    new Field('s', new Utf8(), true),
  ];
  const columns = [
    vectorFromArray([1n, 9007199254740993n, null], new Int64()),
    vectorFromArray([Date.UTC(2024, 0, 5, 10, 0, 0, 123), null, 0], new TimestampMillisecond('UTC')),
    vectorFromArray(['ü "q"\n', null, ''], new Utf8()),
  ];
  const batch = new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: 3, nullCount: 0, children: columns.map((c) => c.data[0]) }),
  );

  it('writes Int64 as a number when exact, else a string; timestamps as ISO; nulls as null', () => {
    expect(encodeNdjson(batch)).toBe(
      '{"big":1,"t":"2024-01-05T10:00:00.123Z","s":"ü \\"q\\"\\n"}\n{"big":"9007199254740993","t":null,"s":null}\n{"big":null,"t":"1970-01-01T00:00:00.000Z","s":""}\n',
    );
    expect(JSON.parse(encodeJsonArray(batch))).toEqual(
      encodeNdjson(batch)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
  });

  it('round-trips NDJSON through the reader (a column mixing numbers and strings reads back as Utf8)', async () => {
    const path = writeTemp(dir, 'rt.ndjson', encodeNdjson(batch));
    const { rows } = await readAll(path, 'ndjson');
    expect(rows).toEqual([
      { big: '1', t: '2024-01-05T10:00:00.123Z', s: 'ü "q"\n' },
      { big: '9007199254740993', t: null, s: null },
      { big: null, t: '1970-01-01T00:00:00.000Z', s: '' },
    ]);
  });
});
