import { describe } from 'vitest';
import { perBatchSpec, transform } from './marble-spec.js';

const REDACTED = '[REDACTED]';

describe('mask (marbles)', () => {
  perBatchSpec(transform('mask', { columns: { id: { method: 'redact' } } }), {
    a: [
      { id: REDACTED, v: 1, ts: 1000 },
      { id: REDACTED, v: 2, ts: 2000 },
    ],
    b: [
      { id: REDACTED, v: 3, ts: 3000 },
      { id: REDACTED, v: null, ts: 12_000 },
    ],
    c: [{ id: REDACTED, v: 5, ts: 25_000 }],
  });
});
