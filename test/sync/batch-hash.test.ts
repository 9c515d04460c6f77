import { describe, expect, it } from 'vitest';
import { recordBatchFromRows } from '../../src/core/batch.js';
import { rowHashes } from '../../src/sync/batch-hash.js';
import { takeRows } from '../../src/transforms/arrow-ops.js';

const rows = [
  { id: 1, name: 'alpha', qty: 10, price: 1.5, active: true, at: new Date('2026-01-01T00:00:00Z') },
  { id: 2, name: '', qty: null, price: -0.25, active: false, at: new Date('2026-01-02T00:00:00Z') },
  { id: 3, name: null, qty: 0, price: 0, active: null, at: null },
  { id: 4, name: 'a longer name with ünïcödé', qty: 2 ** 40, price: 1e300, active: true, at: new Date('1969-12-31T23:59:59Z') },
];
const columns = ['name', 'qty', 'price', 'active', 'at'];

describe('rowHashes', () => {
  it('hashes a row the same wherever it sits in a batch, and tells every row here apart', () => {
    const batch = recordBatchFromRows(rows);
    const hashes = rowHashes(batch, columns);
    expect(new Set(hashes).size).toBe(rows.length);
    const reordered = takeRows(batch, Int32Array.from([3, 2, 1, 0]));
    expect(rowHashes(reordered, columns)).toEqual([...hashes].reverse());
    expect(rowHashes(recordBatchFromRows(rows.slice(1)), columns)).toEqual(hashes.slice(1));
    // A slice of the batch (non-zero data offset) reads its own rows.
    expect(rowHashes(batch.slice(2, 4), columns)).toEqual(hashes.slice(2, 4));
  });

  it('changes with any one value, with null versus empty, and with the column a value is in', () => {
    const base = rowHashes(recordBatchFromRows(rows), columns);
    const variants: Array<Partial<(typeof rows)[number]>> = [
      { name: 'alphb' },
      { name: 'alpha ' },
      { qty: 11 },
      { price: 1.5000001 },
      { active: false },
      { at: new Date('2026-01-01T00:00:00.001Z') },
    ];
    for (const change of variants) {
      const changed = rowHashes(recordBatchFromRows([{ ...rows[0], ...change }, ...rows.slice(1)]), columns);
      expect(changed[0], JSON.stringify(change)).not.toBe(base[0]);
      expect(changed.slice(1)).toEqual(base.slice(1));
    }
    const empty = rowHashes(
      recordBatchFromRows([
        { a: '', b: 'x' },
        { a: null, b: 'x' },
        { a: 'x', b: '' },
      ]),
      ['a', 'b'],
    );
    expect(new Set(empty).size).toBe(3);
  });
});
