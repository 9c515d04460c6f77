import { Float64, Utf8 } from 'apache-arrow';
import { map } from 'rxjs';
import { describe, it } from 'vitest';
import { typedBatch } from '../expression/helpers.js';
import { batchesOf } from '../support/run.js';
import { scheduler, summary, transform, untouchedSpec } from './marble-spec.js';

const pivot = transform('pivot', { index: 'group', columns: 'region', values: 'cost', aggfunc: 'sum' });
const [p, q] = batchesOf([
  typedBatch({ group: [['g1', 'g2'], new Utf8()], region: [['eu', 'us'], new Utf8()], cost: [[1, 2], new Float64()] }),
  typedBatch({ group: [['g1', 'g1'], new Utf8()], region: [['us', 'eu'], new Utf8()], cost: [[3, 4], new Float64()] }),
]);

describe('pivot (marbles)', () => {
  it('holds every batch (an empty answer retaining from the first), and emits the table in the completing frame', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-p-q-|', { p, q });
      expectObservable(input.pipe(pivot(), map(summary))).toBe('-p-q-(r|)', {
        p: { seq: 0, retainedFrom: 0, rows: [] },
        q: { seq: 1, retainedFrom: 0, rows: [] },
        r: {
          seq: 1,
          retainedFrom: undefined,
          rows: [
            { group: 'g1', eu: 5, us: 3 },
            { group: 'g2', eu: null, us: 2 },
          ],
        },
      });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('an input error reaches the subscriber and no table is emitted', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-p-#', { p }, new Error('source broke')).pipe(pivot(), map(summary));
      expectObservable(out).toBe('-p-#', { p: { seq: 0, retainedFrom: 0, rows: [] } }, new Error('source broke'));
    });
  });

  it('unsubscribing downstream unsubscribes the input, and nothing held is emitted', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-p-q-|', { p, q });
      expectObservable(
        input.pipe(
          pivot(),
          map((batch) => batch.meta.seq),
        ),
        '^--!',
      ).toBe('-p-', { p: 0 });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });

  untouchedSpec(transform('pivot', { index: 'id', columns: 'id', values: 'v', aggfunc: 'sum' }));
});
