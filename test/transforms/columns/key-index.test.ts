import { Dictionary, Float64, Int32, Int64, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../../src/transforms/columns/key-index.js';
import { typedBatch } from '../expression/helpers.js';
import { rng } from '../support/random-data.js';

/** Reference ids: first-seen order of JSON-encoded keys, in a plain Map. */
function referenceIds(seen: Map<string, number>, keys: unknown[][]): number[] {
  return keys.map((key) => {
    const text = JSON.stringify(key, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : Number.isNaN(v) ? 'NaN' : v));
    if (!seen.has(text)) seen.set(text, seen.size);
    return seen.get(text)!;
  });
}

describe('KeyIndex', () => {
  it('gives first-seen dense ids across batches of plain and dictionary text, ints, floats and nulls', () => {
    const random = rng(71);
    const words = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `😀-${i}` : `key-${i}-${'x'.repeat(i % 40)}`));
    const index = new KeyIndex(3);
    const seen = new Map<string, number>();
    for (let b = 0; b < 30; b++) {
      const n = Math.floor(random() * 400);
      const s = Array.from({ length: n }, () => (random() < 0.05 ? null : words[Math.floor(random() * words.length)]));
      const k = Array.from({ length: n }, () => (random() < 0.05 ? null : BigInt(Math.floor(random() * 3))));
      const f = Array.from({ length: n }, () => (random() < 0.05 ? null : random() < 0.05 ? Number.NaN : Math.floor(random() * 2) / 2));
      const text = b % 2 === 0 ? new Utf8() : new Dictionary(new Utf8(), new Int32());
      const data = typedBatch({ s: [s, text], k: [k, new Int64()], f: [f, new Float64()] });
      const ids = index.ids([data.getChild('s')!, data.getChild('k')!, data.getChild('f')!], n);
      expect(Array.from(ids)).toEqual(
        referenceIds(
          seen,
          s.map((v, i) => [v, k[i], f[i]]),
        ),
      );
    }
    expect(index.size).toBe(seen.size);
    expect(index.size).toBeGreaterThan(3000);
    // Key values come back per group.
    const [first] = seen.keys();
    expect(
      JSON.stringify([index.keyValue(0, 0), Number(index.keyValue(0, 1)), index.keyValue(0, 2)], (_, v: unknown) =>
        Number.isNaN(v) ? 'NaN' : v,
      ),
    ).toBe(first);
  });

  it('looks keys up without adding them, matching Int64 to Int32 and text across encodings', () => {
    const index = new KeyIndex(2);
    index.ids(
      [typedBatch({ a: [['x', 'y', null], new Utf8()] }).getChild('a')!, typedBatch({ b: [[1, 2, 3], new Int32()] }).getChild('b')!],
      3,
    );
    const probe = typedBatch({
      a: [['y', 'x', 'z', null, 'x'], new Dictionary(new Utf8(), new Int32())],
      b: [[2n, 1n, 1n, 3n, 2n], new Int64()],
    });
    expect(Array.from(index.lookup([probe.getChild('a')!, probe.getChild('b')!], 5))).toEqual([1, 0, -1, 2, -1]);
    expect(index.size).toBe(3);
  });
});
