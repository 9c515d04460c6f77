import { EMPTY, lastValueFrom, type OperatorFunction } from 'rxjs';
import { beforeAll, describe } from 'vitest';
import type { Batch } from '../../../src/core/batch.js';
import { makeTransform } from '../support/run.js';
import { perBatchSpec } from './marble-spec.js';

/**
 * Enrich loads its reference data once, asynchronously, before it reads its input; a spec in
 * virtual time starts from an operator that has loaded it (later subscriptions replay it at once).
 */
let enrich: OperatorFunction<Batch, Batch>;
beforeAll(async () => {
  enrich = makeTransform('enrich', {
    lookups: [
      {
        rows: [
          { id: 'x', label: 'ex' },
          { id: 'y', label: 'why' },
        ],
        key: 'id',
        columns: ['label'],
        on_missing: 'null',
      },
    ],
    calculated_columns: { half: 'v / 2' },
  });
  await lastValueFrom(EMPTY.pipe(enrich), { defaultValue: undefined });
});

describe('enrich (marbles)', () => {
  perBatchSpec(() => enrich, {
    a: [
      { id: 'x', v: 1, ts: 1000, label: 'ex', half: 0.5 },
      { id: 'y', v: 2, ts: 2000, label: 'why', half: 1 },
    ],
    b: [
      { id: 'y', v: 3, ts: 3000, label: 'why', half: 1.5 },
      { id: 'z', v: null, ts: 12_000, label: null, half: null },
    ],
    c: [{ id: 'x', v: 5, ts: 25_000, label: 'ex', half: 2.5 }],
  });
});
