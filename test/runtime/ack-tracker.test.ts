import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/core/batch.js';
import { Credits } from '../../src/core/flow-control.js';
import { AckTracker } from '../../src/runtime/ack-tracker.js';

describe('AckTracker', () => {
  it('checkpoints a batch acknowledged by every route in the same tick, without waiting for another ack', async () => {
    const committed: Position[] = [];
    const tracker = new AckTracker(2, new Credits(4), async (p) => {
      committed.push(p);
    });
    const seq = tracker.register({ lsn: '0/1' });
    // The first route alone moves nothing; the second, right after, makes seq 0 durable.
    tracker.ack(0, seq, undefined);
    tracker.ack(1, seq, undefined);
    for (let i = 0; i < 10 && committed.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(committed).toEqual([{ lsn: '0/1' }]);
  });

  it('a stop stores what is durable and no more; an end of input stores the last position', async () => {
    for (const end of ['stop', 'complete'] as const) {
      const committed: Position[] = [];
      const tracker = new AckTracker(1, new Credits(4), async (p) => {
        committed.push(p);
      });
      tracker.ack(0, tracker.register(1), undefined);
      // A transform still holds the rows of seq 1.
      tracker.ack(0, tracker.register(2), 1);
      await tracker[end]();
      expect(committed).toEqual(end === 'stop' ? [1] : [1, 2]);
    }
  });

  it('a failed commit errors failed$ at once, though no acknowledgement comes to report it', async () => {
    const credits = new Credits(1);
    const tracker = new AckTracker(1, credits, async () => {
      throw new Error('store down');
    });
    const failed = firstValueFrom(tracker.failed$, { defaultValue: undefined });
    await credits.acquire();
    tracker.ack(0, tracker.register(1), undefined);
    await expect(failed).rejects.toThrow('store down');
    expect(credits.inFlight).toBe(1);
  });
});
