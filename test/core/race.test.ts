import { describe, expect, it } from 'vitest';
import { race } from '../../src/core/race.js';
import { stillReachable } from '../support/gc.js';

const never = new Promise<never>(() => undefined);
const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('race', () => {
  it('settles with the first contender to settle, fulfilled or rejected', async () => {
    await expect(race([later('slow', 30), later('fast', 1), never])).resolves.toBe('fast');
    await expect(race([later('slow', 30), Promise.reject(new Error('failed')), never])).rejects.toThrow('failed');
  });

  it('takes the first one listed among contenders already settled, values included', async () => {
    const settled = Promise.resolve('a');
    await settled;
    await expect(race([never, settled, Promise.resolve('b')])).resolves.toBe('a');
    await expect(race([never, 'plain', settled])).resolves.toBe('plain');
  });

  it('races a contender again after it settled, and one contender in several races at once', async () => {
    const shared = later('shared', 5);
    const [first, second] = await Promise.all([race([shared, never]), race([never, shared])]);
    expect([first, second]).toEqual(['shared', 'shared']);
    await expect(race([shared, never])).resolves.toBe('shared');
  });

  it('lets the results of finished races go although a contender stays pending', async () => {
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 200; i++) {
      const frame = { i, payload: Buffer.alloc(64) };
      refs.push(new WeakRef(frame));
      await race([Promise.resolve(frame), never]);
    }
    // The async function may still hold the last iteration's frame.
    expect(await stillReachable(refs)).toBeLessThanOrEqual(1);
  });
});
