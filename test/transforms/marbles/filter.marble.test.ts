import { describe } from 'vitest';
import { perBatchSpec, transform } from './marble-spec.js';

describe('filter (marbles)', () => {
  perBatchSpec(transform('filter', { condition: 'v >= 2' }), {
    a: [{ id: 'y', v: 2, ts: 2000 }],
    b: [{ id: 'y', v: 3, ts: 3000 }],
    c: [{ id: 'x', v: 5, ts: 25_000 }],
  });
});
