import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../../src/connectors/kit/sleep.js';

describe('sleep', () => {
  it('ends early when its signal aborts', async () => {
    const stop = new AbortController();
    const waiting = sleep(3_600_000, stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('returns at once on a signal already aborted', async () => {
    await expect(sleep(3_600_000, AbortSignal.abort())).resolves.toBeUndefined();
  });

  it('leaves no abort listener behind once it ran out, so a poll loop on one signal does not pile them up', async () => {
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) await sleep(1, signal);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
