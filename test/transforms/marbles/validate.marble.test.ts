import { map } from 'rxjs';
import { describe, it } from 'vitest';
import { a, b, perBatchSpec, scheduler, transform } from './marble-spec.js';

const operator = transform('validate', {
  validation_rules: [{ name: 'v_present', type: 'not_null', columns: ['v'], action: 'dead_letter' }],
});

describe('validate (marbles)', () => {
  // The row with no v leaves as a dead letter of batch b; the others pass.
  perBatchSpec(operator, {
    a: [
      { id: 'x', v: 1, ts: 1000 },
      { id: 'y', v: 2, ts: 2000 },
    ],
    b: [{ id: 'y', v: 3, ts: 3000 }],
    c: [{ id: 'x', v: 5, ts: 25_000 }],
  });
});

describe('validate (marbles): dead letters', () => {
  it('sends the failing row of a batch out as a dead letter of that batch, in its frame', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-|', { a, b }).pipe(
        operator(),
        map((batch) => batch.meta.deadLetters?.length ?? 0),
      );
      expectObservable(out).toBe('-a-b-|', { a: 0, b: 1 });
    });
  });
});
