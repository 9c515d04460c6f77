import { Float64, Utf8 } from 'apache-arrow';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { rowsOf, type Batch } from '../../src/core/batch.js';
import { stopAware } from '../../src/runtime/stop-aware.js';
import { typedBatch } from '../transforms/expression/helpers.js';
import { batchesOf, makeTransform } from '../transforms/support/run.js';

const [a, b] = batchesOf([
  typedBatch({ id: [['x', 'y'], new Utf8()], v: [[1, 2], new Float64()] }),
  typedBatch({ id: [['x'], new Utf8()], v: [[3], new Float64()] }),
]);
const summary = (batch: Batch) => ({ seq: batch.meta.seq, retainedFrom: batch.meta.retainedFrom, rows: rowsOf(batch.data) });
const totals = () => makeTransform('aggregate', { group_by: ['id'], aggregations: { v: 'sum' } });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('stopAware', () => {
  it('at an end of input the operator completes and emits what it held', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-|', { a, b }).pipe(
        stopAware(totals(), () => false),
        map(summary),
      );
      expectObservable(out).toBe('-a-b-(r|)', {
        a: { seq: 0, retainedFrom: 0, rows: [] },
        b: { seq: 1, retainedFrom: 0, rows: [] },
        r: {
          seq: 1,
          retainedFrom: undefined,
          rows: [
            { id: 'x', v_sum: 4 },
            { id: 'y', v_sum: 2 },
          ],
        },
      });
    });
  });

  it('at a stop the operator is unsubscribed, emits nothing it held, and the output completes', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-|', { a, b });
      const out = input.pipe(
        stopAware(totals(), () => true),
        map(summary),
      );
      expectObservable(out).toBe('-a-b-|', {
        a: { seq: 0, retainedFrom: 0, rows: [] },
        b: { seq: 1, retainedFrom: 0, rows: [] },
      });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('passes an input error through', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-#', { a }, new Error('source broke')).pipe(
        stopAware(totals(), () => true),
        map((batch) => batch.meta.seq),
      );
      expectObservable(out).toBe('-a-#', { a: 0 }, new Error('source broke'));
    });
  });
});
