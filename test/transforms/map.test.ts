import { Float64, Int32, Utf8 } from 'apache-arrow';
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows, rowsOf, type Batch } from '../../src/core/batch.js';
import { parseConfig } from '../../src/core/config.js';
import { logger } from '../../src/core/logger.js';
import { registry } from '../../src/core/registry.js';
import '../../src/transforms/index.js';
import { typedBatch } from './expression/helpers.js';
import type { RecordBatch } from 'apache-arrow';

const definition = registry.getTransform('map')!;

function mapOp(config: unknown) {
  return definition.create(parseConfig(definition.configSchema, config), { node: 'shape', logger, unbounded: false });
}

function batchOf(data: RecordBatch, seq = 1): Batch {
  return { data, meta: { stream: 's', partition: 'p', position: seq, kind: 'records', seq } };
}

async function run(config: unknown, ...data: RecordBatch[]): Promise<Batch[]> {
  return firstValueFrom(from(data.map((d, i) => batchOf(d, i + 1))).pipe(mapOp(config), toArray()));
}

const types = (b: Batch) => b.data.schema.fields.map((f) => `${f.name}:${String(f.type)}`);

describe('map transform config', () => {
  it('validates options and expressions when the config is parsed', () => {
    expect(() => parseConfig(definition.configSchema, { compute: { total: 'a +* b' } })).toThrow(
      "config.compute.total: unexpected '*' at 1:4",
    );
    expect(() => parseConfig(definition.configSchema, { cast: { a: 'decimal' } })).toThrow(/config\.cast\.a/);
    expect(() => parseConfig(definition.configSchema, { selct: ['a'] })).toThrow(/selct/);
    expect(parseConfig(definition.configSchema, { field_mapping: { ResourceId: 'resource_id' } })).toEqual({
      field_mapping: { ResourceId: 'resource_id' },
    });
  });
});

describe('map transform', () => {
  it("applies the seed's field_mapping as renames and keeps other columns", async () => {
    const [out] = await run(
      { field_mapping: { ResourceId: 'resource_id', MetricName: 'metric_name', MetricValue: 'value' } },
      recordBatchFromRows([{ ResourceId: 'r1', MetricName: 'cpu', MetricValue: 0.5, Region: 'eu' }]),
    );
    expect(rowsOf(out.data)).toEqual([{ resource_id: 'r1', metric_name: 'cpu', value: 0.5, Region: 'eu' }]);
  });

  it('renames, computes, casts, drops and selects in that order, column-wise', async () => {
    const input = typedBatch({
      Id: [['1', '2', 'x', null], new Utf8()],
      cost: [[10, 20.5, null, 4], new Float64()],
      qty: [[2, 3, 1, null], new Int32()],
      raw: [['a', 'b', 'c', 'd'], new Utf8()],
    });
    const [out] = await run(
      {
        rename: { Id: 'id' },
        compute: { total: 'cost * qty', label: "concat(raw, '-', id)", cost: 'round(cost * 1.1, 1)' },
        cast: { id: 'int', qty: 'string' },
        drop: ['raw'],
        select: ['id', 'total', 'cost', 'label', 'qty'],
      },
      input,
    );
    expect(types(out)).toEqual(['id:Int64', 'total:Float64', 'cost:Float64', 'label:Utf8', 'qty:Utf8']);
    expect(rowsOf(out.data)).toEqual([
      { id: 1n, total: 20, cost: 11, label: 'a-1', qty: '2' },
      { id: 2n, total: 61.5, cost: 22.6, label: 'b-2', qty: '3' },
      { id: null, total: null, cost: null, label: 'c-x', qty: '1' },
      { id: null, total: null, cost: 4.4, label: 'd-', qty: null },
    ]);
    // The input batch is untouched.
    expect(types(batchOf(input))).toEqual(['Id:Utf8', 'cost:Float64', 'qty:Int32', 'raw:Utf8']);
    expect(rowsOf(input)[0]).toEqual({ Id: '1', cost: 10, qty: 2, raw: 'a' });
  });

  it('casts between every target type; values that do not convert become null', async () => {
    const [out] = await run(
      { cast: { n: 'float', s: 'int', flag: 'bool', when: 'timestamp', day: 'date', f: 'int' } },
      typedBatch({
        n: [['1.5', ' 2 ', '', 'abc'], new Utf8()],
        s: [['42', '-7', '9223372036854775808', '3.9'], new Utf8()],
        flag: [['yes', 'F', '1', 'maybe'], new Utf8()],
        when: [['2024-03-01T10:00:00Z', '2024-03-01 10:00', 'nope', null], new Utf8()],
        day: [['2024-03-01T23:59:00Z', '1969-12-31', null, 'x'], new Utf8()],
        f: [[2.9, -2.9, Number.NaN, 1e30], new Float64()],
      }),
    );
    expect(types(out)).toEqual(['n:Float64', 's:Int64', 'flag:Bool', 'when:Timestamp<MILLISECOND>', 'day:Date32<DAY>', 'f:Int64']);
    const rows = rowsOf(out.data);
    expect(rows.map((r) => r.n)).toEqual([1.5, 2, null, null]);
    expect(rows.map((r) => r.s)).toEqual([42n, -7n, null, 3n]);
    expect(rows.map((r) => r.flag)).toEqual([true, false, true, null]);
    expect(rows.map((r) => r.when)).toEqual([Date.UTC(2024, 2, 1, 10), Date.UTC(2024, 2, 1, 10), null, null]);
    expect(rows.map((r) => r.day)).toEqual([Date.UTC(2024, 2, 1), Date.UTC(1969, 11, 31), null, null]);
    expect(rows.map((r) => r.f)).toEqual([2n, -2n, null, null]);
  });

  it('names the missing column for every option', async () => {
    const data = recordBatchFromRows([{ a: 1, b: 2 }]);
    await expect(run({ rename: { zz: 'y' } }, data)).rejects.toThrow(
      "map: rename names column 'zz', which the batch does not have (columns: a, b)",
    );
    await expect(run({ field_mapping: { Zz: 'y' } }, data)).rejects.toThrow("map: field_mapping names column 'Zz'");
    await expect(run({ cast: { c: 'int' } }, data)).rejects.toThrow("map: cast names column 'c'");
    await expect(run({ drop: ['c'] }, data)).rejects.toThrow("map: drop names column 'c'");
    await expect(run({ select: ['a', 'c'] }, data)).rejects.toThrow("map: select names column 'c'");
    await expect(run({ compute: { c: 'd + 1' } }, data)).rejects.toThrow("unknown column 'd' at 1:1 (columns: a, b)");
    await expect(run({ rename: { a: 'b' } }, data)).rejects.toThrow("map: renaming gives two columns named 'b'");
  });

  it('keeps order and meta across batches, passes empty batches and completes', async () => {
    const batches = [
      recordBatchFromRows([{ a: 1 }, { a: 2 }]),
      recordBatchFromRows([{ a: 3 }]).slice(0, 0),
      recordBatchFromRows([{ a: 4 }]),
    ];
    const out = await run({ compute: { b: 'x * 10' }, rename: { a: 'x' } }, ...batches);
    expect(out.map((b) => b.meta.seq)).toEqual([1, 2, 3]);
    expect(out.map((b) => b.meta.position)).toEqual([1, 2, 3]);
    expect(out.map((b) => rowsOf(b.data))).toEqual([
      [
        { x: 1, b: 10 },
        { x: 2, b: 20 },
      ],
      [],
      [{ x: 4, b: 40 }],
    ]);
    expect(types(out[1])).toEqual(['x:Float64', 'b:Float64']);
  });
});
