import { describe, expect, it } from 'vitest';
import { DocumentInference, type Document } from '../../../src/connectors/kit/document-inference.js';

function types(inference: DocumentInference): Record<string, string> {
  return Object.fromEntries(inference.schema().fields.map((f) => [f.name, String(f.type)]));
}

function rows(inference: DocumentInference, documents: Document[]): unknown[] {
  return inference
    .recordBatch(documents)
    .toArray()
    .map((row) => JSON.parse(JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) as unknown);
}

describe('document inference', () => {
  it('types every scalar kind, in first-seen column order, nulls and missing fields as nulls', () => {
    const inference = new DocumentInference();
    const batch = inference.recordBatch([
      { f: 1.5, i: 2n ** 62n, b: true, s: 'x' },
      { n: null, s: null, f: null },
      { b: false, i: null },
    ]);
    expect(types(inference)).toEqual({ f: 'Float64', i: 'Int64', b: 'Bool', s: 'Utf8', n: 'Utf8' });
    expect(batch.numRows).toBe(3);
    expect(batch.getChild('f')!.toJSON()).toEqual([1.5, null, null]);
    expect(batch.getChild('i')!.toJSON()).toEqual([2n ** 62n, null, null]);
    expect(batch.getChild('b')!.toJSON()).toEqual([true, null, false]);
    expect(batch.getChild('s')!.toJSON()).toEqual(['x', null, null]);
    expect(batch.getChild('n')!.nullCount).toBe(3);
  });

  it('makes mixed columns JSON text, strings kept as they are', () => {
    const inference = new DocumentInference();
    const batch = inference.recordBatch([{ m: 1 }, { m: 'two' }, { m: { three: 3n } }, { m: 4n }, { m: [true] }]);
    expect(types(inference)).toEqual({ m: 'Utf8' });
    expect(batch.getChild('m')!.toJSON()).toEqual(['1', 'two', '{"three":3}', '4', '[true]']);
  });

  it('json-text nesting: objects, arrays, Dates and bytes are JSON text', () => {
    const inference = new DocumentInference({ nesting: 'json-text' });
    const batch = inference.recordBatch([{ o: { a: [1, { b: null }] }, d: new Date(0), y: new Uint8Array([1, 2, 3]) }]);
    expect(types(inference)).toEqual({ o: 'Utf8', d: 'Utf8', y: 'Utf8' });
    expect(batch.get(0)!.toJSON()).toEqual({ o: '{"a":[1,{"b":null}]}', d: '"1970-01-01T00:00:00.000Z"', y: '"AQID"' });
  });

  it('arrow nesting: Struct and List columns, Timestamp for Dates, Binary for bytes', () => {
    const inference = new DocumentInference({ nesting: 'arrow' });
    const documents = [
      { o: { a: 1, tags: ['x', null] }, at: new Date('2024-02-29T00:00:00Z'), y: new Uint8Array([7]) },
      { o: { tags: [], extra: true }, at: null },
      { o: null, y: Buffer.from('hi') },
    ];
    inference.recordBatch(documents);
    expect(types(inference)).toEqual({
      o: 'Struct<{a:Float64, tags:List<Utf8>, extra:Bool}>',
      at: 'Timestamp<MILLISECOND, UTC>',
      y: 'Binary',
    });
    expect(rows(inference, documents)).toEqual([
      { o: { a: 1, tags: ['x', null], extra: null }, at: Date.parse('2024-02-29T00:00:00Z'), y: { 0: 7 } },
      { o: { a: null, tags: [], extra: true }, at: null, y: null },
      { o: null, at: null, y: { 0: 104, 1: 105 } },
    ]);
  });

  it('arrow nesting: list items widen over every item; a mix makes the item JSON text', () => {
    const inference = new DocumentInference({ nesting: 'arrow' });
    const batch = inference.recordBatch([{ l: [1, 2] }, { l: [null, 'x'] }, { l: [[1]] }]);
    expect(types(inference)).toEqual({ l: 'List<Utf8>' });
    expect(rows(inference, [{ l: [1, 'x', [1]] }])).toEqual([{ l: ['1', 'x', '[1]'] }]);
    expect(batch.numRows).toBe(3);
  });

  it('arrow nesting: a struct against a scalar or a list is JSON text', () => {
    const inference = new DocumentInference({ nesting: 'arrow' });
    inference.observe([{ a: { x: 1 } }, { a: 2 }, { b: [1] }, { b: { y: 1 } }]);
    expect(types(inference)).toEqual({ a: 'Utf8', b: 'Utf8' });
  });

  it('bounds nesting depth: a column has at most maxDepth levels of Struct and List, deeper values are JSON text', () => {
    const inference = new DocumentInference({ nesting: 'arrow', maxDepth: 2 });
    const documents = [{ one: { two: { three: { four: 4 } } }, list: [[[1]]], flat: { a: 1 } }];
    inference.recordBatch(documents);
    expect(types(inference)).toEqual({ one: 'Struct<{two:Struct<{three:Utf8}>}>', list: 'List<List<Utf8>>', flat: 'Struct<{a:Float64}>' });
    expect(rows(inference, documents)).toEqual([{ one: { two: { three: '{"four":4}' } }, list: [['[1]']], flat: { a: 1 } }]);
  });

  it('keeps one schema across batches: columns stay, types only widen', () => {
    const inference = new DocumentInference({ nesting: 'arrow' });
    const first = inference.recordBatch([{ id: 1, s: { a: 1 } }]);
    const second = inference.recordBatch([{ name: 'x' }]);
    const third = inference.recordBatch([{ id: 'seven', s: { b: 'y' } }]);
    expect(first.schema.fields.map((f) => f.name)).toEqual(['id', 's']);
    expect(second.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['id:Float64', 's:Struct<{a:Float64}>', 'name:Utf8']);
    expect(second.toArray().map((r) => r.toJSON())).toEqual([{ id: null, s: null, name: 'x' }]);
    expect(third.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:Utf8',
      's:Struct<{a:Float64, b:Utf8}>',
      'name:Utf8',
    ]);
    expect(third.getChild('id')!.toJSON()).toEqual(['seven']);
    // A column once JSON text stays so, whatever comes later.
    inference.observe([{ id: 8 }]);
    expect(types(inference).id).toBe('Utf8');
  });

  it('reads only own properties: documents decoded into class instances (Avro records) bring no methods', () => {
    class Decoded {
      constructor(readonly id: number) {}
    }
    Object.assign(Decoded.prototype, { clone() {}, kind: 'inherited' });
    const inference = new DocumentInference({ nesting: 'arrow' });
    const batch = inference.recordBatch([new Decoded(1) as unknown as Document, { nested: new Decoded(2) }]);
    expect(types(inference)).toEqual({ id: 'Float64', nested: 'Utf8' });
    expect(batch.getChild('nested')!.toJSON()).toEqual([null, '{"id":2}']);
  });

  it('takes any iterable of documents and builds empty batches', () => {
    const inference = new DocumentInference();
    function* documents(): Generator<Document> {
      yield { a: 1 };
      yield { a: 2 };
    }
    expect(inference.recordBatch(documents()).getChild('a')!.toJSON()).toEqual([1, 2]);
    const empty = new DocumentInference().recordBatch([]);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields).toEqual([]);
  });
});
