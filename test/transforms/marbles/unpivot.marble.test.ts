import { describe } from 'vitest';
import { perBatchSpec, transform } from './marble-spec.js';

describe('unpivot (marbles)', () => {
  perBatchSpec(transform('unpivot', { id_columns: ['id'], value_columns: ['v'], var_name: 'metric' }), {
    a: [
      { id: 'x', metric: 'v', value: 1 },
      { id: 'y', metric: 'v', value: 2 },
    ],
    b: [
      { id: 'y', metric: 'v', value: 3 },
      { id: 'z', metric: 'v', value: null },
    ],
    c: [{ id: 'x', metric: 'v', value: 5 }],
  });
});
