import { describe } from 'vitest';
import { perBatchSpec, transform } from './marble-spec.js';

describe('map (marbles)', () => {
  perBatchSpec(transform('map', { rename: { id: 'key' }, compute: { double: 'v * 2' }, drop: ['ts'] }), {
    a: [
      { key: 'x', v: 1, double: 2 },
      { key: 'y', v: 2, double: 4 },
    ],
    b: [
      { key: 'y', v: 3, double: 6 },
      { key: 'z', v: null, double: null },
    ],
    c: [{ key: 'x', v: 5, double: 10 }],
  });
});
