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
});
