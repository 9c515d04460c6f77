import { Float64, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { rowsOf, type Batch } from '../../src/core/batch.js';
import { typedBatch } from './expression/helpers.js';
import { batchesOf, makeTransform } from './support/run.js';
import { transform, untouchedSpec } from './marbles/marble-spec.js';

/** What a test compares of an output batch: its seq, what it retains, and its rows. */
const summary = (b: Batch) => ({ seq: b.meta.seq, retainedFrom: b.meta.retainedFrom, rows: rowsOf(b.data) });

const [a, b, c] = batchesOf([
  typedBatch({ id: [['x', 'y'], new Utf8()], v: [[1, 2], new Float64()], ts: [[1000, 2000], new TimestampMillisecond()] }),
  typedBatch({ id: [['y', 'z'], new Utf8()], v: [[3, 4], new Float64()], ts: [[3000, 12_000], new TimestampMillisecond()] }),
  typedBatch({ id: [['x'], new Utf8()], v: [[5], new Float64()], ts: [[25_000], new TimestampMillisecond()] }),
]);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('operator behaviour (marbles)', () => {
  it('a per-batch transform answers each batch in the same frame and completes with its input', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c-|', { a, b, c });
      const out = input.pipe(makeTransform('clean', { remove_duplicates: true, duplicate_columns: ['id'] }), map(summary));
      expectObservable(out).toBe('-a-b-c-|', {
        a: {
          seq: 0,
          retainedFrom: undefined,
          rows: [
            { id: 'x', v: 1, ts: 1000 },
            { id: 'y', v: 2, ts: 2000 },
          ],
        },
        b: { seq: 1, retainedFrom: undefined, rows: [{ id: 'z', v: 4, ts: 12_000 }] },
        c: { seq: 2, retainedFrom: undefined, rows: [] },
      });
      expectSubscriptions(input.subscriptions).toBe('^------!');
    });
  });

  it('unsubscribing downstream unsubscribes the input, and nothing held is emitted', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c-|', { a, b, c });
      const out = input.pipe(makeTransform('normalize', { min_max_columns: ['v'] }), map(summary));
      const empty = (seq: number) => ({ seq, retainedFrom: 0, rows: [] });
      expectObservable(out, '^--!').toBe('-a-', { a: empty(0) });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });

  it('a full aggregate retains until completion, then emits its result in the completing frame', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-|', { a, b }).pipe(
        makeTransform('aggregate', { group_by: ['id'], aggregations: { v: ['sum'] } }),
        map(summary),
      );
      expectObservable(out).toBe('-a-b-(r|)', {
        a: { seq: 0, retainedFrom: 0, rows: [] },
        b: { seq: 1, retainedFrom: 0, rows: [] },
        r: {
          seq: 1,
          retainedFrom: undefined,
          rows: [
            { id: 'x', v_sum: 1 },
            { id: 'y', v_sum: 5 },
            { id: 'z', v_sum: 4 },
          ],
        },
      });
    });
  });

  it('windows close as the watermark passes, and an input error reaches the subscriber', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const config = { aggregations: { v: ['sum'] }, window: { type: 'tumbling', time_column: 'ts', size: 10_000 } };
      const out = cold('-a-b-c-#', { a, b, c }, new Error('source broke')).pipe(makeTransform('aggregate', config), map(summary));
      expectObservable(out).toBe(
        '-a-b-c-#',
        {
          a: { seq: 0, retainedFrom: 0, rows: [] },
          // ts 12s moves the watermark past the first window [0, 10s).
          b: { seq: 1, retainedFrom: 1, rows: [{ window_start: 0, window_end: 10_000, v_sum: 6 }] },
          c: { seq: 2, retainedFrom: 2, rows: [{ window_start: 10_000, window_end: 20_000, v_sum: 4 }] },
        },
        new Error('source broke'),
      );
    });
  });

  it('a failing batch errors the stream at that frame', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const bad = { ...b, data: typedBatch({ other: [[1], new Float64()] }) };
      const out = cold('-a-b-|', { a, b: bad }).pipe(
        makeTransform('clean', { remove_duplicates: true, duplicate_columns: ['id'] }),
        map((x) => x.meta.seq),
      );
      expectObservable(out).toBe('-a-#', { a: 0 }, expect.objectContaining({ message: expect.stringMatching(/no column 'id'/) }));
    });
  });

  it('a window passes on what its upstream holds: marks combine by minimum, never overwrite', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // Upstream still holds the rows of seq 0 while passing a and b on.
      const held = (batch: Batch): Batch => ({ ...batch, meta: { ...batch.meta, retainedFrom: 0 } });
      const config = { aggregations: { v: ['sum'] }, window: { type: 'tumbling', time_column: 'ts', size: 10_000 } };
      const out = cold('-a-b-|', { a: held(a), b: held(b) }).pipe(makeTransform('aggregate', config), map(summary));
      expectObservable(out).toBe('-a-b-(r|)', {
        a: { seq: 0, retainedFrom: 0, rows: [] },
        // Its own state holds only seq 1 now; upstream's mark stays.
        b: { seq: 1, retainedFrom: 0, rows: [{ window_start: 0, window_end: 10_000, v_sum: 6 }] },
        r: { seq: 1, retainedFrom: 0, rows: [{ window_start: 10_000, window_end: 20_000, v_sum: 4 }] },
      });
    });
  });

  it('a whole-input transform retains until its last result is out', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-|', { a, b }).pipe(
        makeTransform('normalize', { min_max_columns: ['v'] }),
        map((x) => [x.meta.retainedFrom, x.data.numRows]),
      );
      expectObservable(out).toBe('-a-b-(xy|)', { a: [0, 0], b: [0, 0], x: [0, 2], y: [undefined, 2] });
    });
  });
});

describe('operators leave their input batches as they were', () => {
  describe('clean', () => untouchedSpec(transform('clean', { remove_duplicates: true, duplicate_columns: ['id'] })));
  describe('normalize', () => untouchedSpec(transform('normalize', { min_max_columns: ['v'] })));
  describe('aggregate', () =>
    untouchedSpec(transform('aggregate', { aggregations: { v: ['sum'] }, window: { type: 'tumbling', time_column: 'ts', size: 10_000 } })));
});
