import { describe, expect, it } from 'vitest';
import { KeyHashSet } from '../../src/state/key-hash-set.js';
import { keyString } from '../../src/core/row-hash.js';

describe('KeyHashSet', () => {
  it('remembers every key added across growth and nothing else', () => {
    const set = new KeyHashSet();
    for (let i = 0; i < 200_000; i += 2) set.add(keyString([String(i)]));
    set.add(keyString([String(0)]));
    expect(set.size).toBe(100_000);
    let wrong = 0;
    for (let i = 0; i < 200_000; i++) if (set.has(keyString([String(i)])) !== (i % 2 === 0)) wrong++;
    expect(wrong).toBe(0);
    expect(set.has(keyString(['a', 'b']))).toBe(false);
    set.add(keyString(['a', 'b']));
    expect(set.has(keyString(['a', 'b']))).toBe(true);
    expect(set.has(keyString(['a\u0000b']))).toBe(false);
    expect(set.has('')).toBe(false);
  });
});
