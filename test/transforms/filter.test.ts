import { Float64, Int64, Schema, Field, Utf8, Struct, type RecordBatch } from 'apache-arrow';
import { firstValueFrom, from, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows, rowsOf, type Batch } from '../../src/core/batch.js';
import { parseConfig } from '../../src/core/config.js';
import { logger } from '../../src/core/logger.js';
import { registry } from '../../src/core/registry.js';
import '../../src/transforms/index.js';
import { typedBatch } from './expression/helpers.js';

const ctx = { node: 'keep', logger, unbounded: false };

function batchOf(data: RecordBatch, seq: number): Batch {
  return { data, meta: { stream: 's', partition: 'p0', position: { offset: seq * 10 }, kind: 'records', seq } };
}

function filter(condition: string) {
  const definition = registry.getTransform('filter')!;
  return definition.create(parseConfig(definition.configSchema, { condition }), ctx);
}

describe('filter transform', () => {
  it('is registered and rejects a condition that does not parse, with the parser message', () => {
    const definition = registry.getTransform('filter')!;
    expect(definition).toBeDefined();
    expect(() => parseConfig(definition.configSchema, { condition: "status = 'ok' and (cost > 1" })).toThrow(
      "config.condition: expected ')' at 1:28",
    );
    expect(() => parseConfig(definition.configSchema, {})).toThrow(/config\.condition/);
    expect(parseConfig(definition.configSchema, { condition: 'a > 1' })).toEqual({ condition: 'a > 1' });
  });

  it('keeps true rows in order across batches, keeps meta, emits empty batches and completes', async () => {
    const batches = [
      batchOf(
        recordBatchFromRows([
          { id: 1, status: 'ok', cost: 5 },
          { id: 2, status: 'bad', cost: 50 },
          { id: 3, status: 'ok', cost: null },
        ]),
        1,
      ),
      batchOf(
        recordBatchFromRows([
          { id: 4, status: 'bad', cost: 1 },
          { id: 5, status: 'bad', cost: 2 },
        ]),
        2,
      ),
      batchOf(
        recordBatchFromRows([
          { id: 6, status: 'ok', cost: 7 },
          { id: 7, status: 'ok', cost: 8 },
        ]),
        3,
      ),
    ];
    const out = await firstValueFrom(from(batches).pipe(filter("status = 'ok' and cost < 100"), toArray()));
    expect(out.map((b) => b.meta)).toEqual(batches.map((b) => b.meta));
    expect(out.map((b) => rowsOf(b.data).map((r) => r.id))).toEqual([[1], [], [6, 7]]);
    // Nothing filtered out: the very same batch passes through.
    expect(out[2]).toBe(batches[2]);
    // The empty batch keeps the schema.
    expect(out[1].data.schema.fields.map((f) => f.name)).toEqual(['id', 'status', 'cost']);
    expect(out[1].data.numRows).toBe(0);
  });

  it('gathers every column type, nulls included, from a sliced batch', async () => {
    const data = typedBatch({
      name: [['a', null, 'ccc', 'dd', 'é😀'], new Utf8()],
      big: [[1n, 2n, null, 4n, 5n], new Int64()],
      v: [[0.5, 1.5, 2.5, null, 4.5], new Float64()],
    }).slice(1, 5);
    const [out] = await firstValueFrom(from([batchOf(data, 1)]).pipe(filter('big is null or v > 1'), toArray()));
    expect(rowsOf(out.data)).toEqual([
      { name: null, big: 2n, v: 1.5 },
      { name: 'ccc', big: null, v: 2.5 },
      { name: 'é😀', big: 5n, v: 4.5 },
    ]);
    expect(String(out.data.schema.fields[1].type)).toBe('Int64');
  });

  it('keeps schema metadata and struct columns', async () => {
    const inner = typedBatch({ x: [[1, 2, 3], new Float64()] }).getChildAt(0)!;
    const rows = recordBatchFromRows([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const struct = new Struct([new Field('x', new Float64())]);
    const { makeData, RecordBatch } = await import('apache-arrow');
    const structData = makeData({ type: struct, length: 3, nullCount: 0, children: [inner.data[0]] });
    const schema = new Schema([rows.schema.fields[0], new Field('nested', struct)], new Map([['sluice.keys', '["id"]']]));
    const data = new RecordBatch(
      schema,
      makeData({ type: new Struct(schema.fields), length: 3, nullCount: 0, children: [rows.getChildAt(0)!.data[0], structData] }),
    );
    const [out] = await firstValueFrom(from([batchOf(data, 1)]).pipe(filter('id != 2'), toArray()));
    expect(out.data.schema.metadata.get('sluice.keys')).toBe('["id"]');
    expect(rowsOf(out.data).map((r) => [r.id, (r.nested as { x: number }).x])).toEqual([
      [1, 1],
      [3, 3],
    ]);
  });

  it('errors with the column name when the condition names a missing column', async () => {
    const subject = new Subject<Batch>();
    const seen: Batch[] = [];
    const failure = new Promise<unknown>((resolve) =>
      subject.pipe(filter('missing > 1')).subscribe({ next: (b) => seen.push(b), error: resolve }),
    );
    subject.next(batchOf(recordBatchFromRows([{ a: 1 }]), 1));
    const error = (await failure) as Error & { code: string };
    expect(error.code).toBe('SLUICE_EXPRESSION_INVALID');
    expect(error.message).toBe("unknown column 'missing' at 1:1 (columns: a)");
    expect(seen).toEqual([]);
  });

  it('propagates completion of an empty stream', async () => {
    await expect(firstValueFrom(from([] as Batch[]).pipe(filter('a > 1'), toArray()))).resolves.toEqual([]);
  });
});
