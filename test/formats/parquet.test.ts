import {
  Bool,
  Field,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  makeData,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/core/batch.js';
import { encodeParquet } from '../../src/formats/index.js';
import { readAll, tempDir, writeTemp } from './helpers.js';

const dir = tempDir();

function sampleBatch(n: number): RecordBatch {
  const fields = [
    new Field('id', new Int64(), true),
    new Field('x', new Float64(), true),
    new Field('s', new Utf8(), true),
    new Field('b', new Bool(), true),
    new Field('t', new TimestampMillisecond('UTC'), true),
  ];
  const columns = [
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i === 1 ? null : BigInt(i) + 9007199254740990n)),
      new Int64(),
    ),
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : i / 2)),
      new Float64(),
    ),
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : `ü-${i}-😀`)),
      new Utf8(),
    ),
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)),
      new Bool(),
    ),
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : Date.UTC(2024, 0, 1) + i * 1000)),
      new TimestampMillisecond('UTC'),
    ),
  ];
  return new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: n, nullCount: 0, children: columns.map((c) => c.data[0]) }),
  );
}

describe('parquet', () => {
  it.each(['snappy', 'zstd'] as const)('round-trips types, nulls, unicode, Int64 and timestamps (%s)', async (compression) => {
    const batch = sampleBatch(20);
    const path = writeTemp(dir, `rt-${compression}.parquet`, encodeParquet(batch, { compression }));
    const { chunks, rows } = await readAll(path, 'parquet');
    expect(rows).toEqual(rowsOf(batch));
    expect(chunks[0].data.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(batch.schema.fields.map((f) => `${f.name}:${f.type}`));
    expect(chunks.at(-1)!.position).toEqual({ row_group: 1, row: 0 });
  });

  it('reads row group by row group, splits groups larger than batchSize, and resumes from any position', async () => {
    const batch = sampleBatch(50);
    const path = writeTemp(dir, 'groups.parquet', encodeParquet(batch, { rowGroupSize: 20 }));
    const all = await readAll(path, 'parquet', { batchSize: 15 });
    // Groups of 20, 20, 10 rows; each at most 15 rows per chunk.
    expect(all.chunks.map((c) => c.data.numRows)).toEqual([15, 5, 15, 5, 10]);
    expect(all.chunks.map((c) => c.position)).toEqual([
      { row_group: 0, row: 15 },
      { row_group: 1, row: 0 },
      { row_group: 1, row: 15 },
      { row_group: 2, row: 0 },
      { row_group: 3, row: 0 },
    ]);
    expect(all.rows).toEqual(rowsOf(batch));
    let consumed = 0;
    for (const chunk of all.chunks) {
      consumed += chunk.data.numRows;
      const rest = await readAll(path, 'parquet', { batchSize: 15, from: chunk.position });
      expect(rest.rows).toEqual(all.rows.slice(consumed));
    }
  });

  it('reads a file written from a 0-row batch as no rows', async () => {
    const path = writeTemp(dir, 'empty.parquet', encodeParquet(sampleBatch(0)));
    expect((await readAll(path, 'parquet')).rows).toEqual([]);
  });
});
