import { describe } from 'vitest';
import { perBatchSpec, transform } from './marble-spec.js';

const rowsOfInput = {
  a: [
    { id: 'x', v: 1, ts: 1000 },
    { id: 'y', v: 2, ts: 2000 },
  ],
  b: [
    { id: 'y', v: 3, ts: 3000 },
    { id: 'z', v: null, ts: 12_000 },
  ],
  c: [{ id: 'x', v: 5, ts: 25_000 }],
};

describe('profile (marbles)', () => {
  // Profiling observes: every batch passes through as it came.
  perBatchSpec(transform('profile', { top_values: 2 }), rowsOfInput);
});
