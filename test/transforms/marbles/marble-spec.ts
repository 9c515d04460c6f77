import { Float64, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { map, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect, it } from 'vitest';
import { rowsOf, type Batch } from '../../../src/core/batch.js';
import { typedBatch } from '../expression/helpers.js';
import { batchesOf, makeTransform } from '../support/run.js';

/** Three input batches, as a source partition gives them (seq 0..2). */
export const [a, b, c] = batchesOf([
  typedBatch({ id: [['x', 'y'], new Utf8()], v: [[1, 2], new Float64()], ts: [[1000, 2000], new TimestampMillisecond()] }),
  typedBatch({ id: [['y', 'z'], new Utf8()], v: [[3, null], new Float64()], ts: [[3000, 12_000], new TimestampMillisecond()] }),
  typedBatch({ id: [['x'], new Utf8()], v: [[5], new Float64()], ts: [[25_000], new TimestampMillisecond()] }),
]);

export function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** What a spec compares of an output batch: its seq, what it retains, its rows. */
export const summary = (batch: Batch) => ({ seq: batch.meta.seq, retainedFrom: batch.meta.retainedFrom, rows: rowsOf(batch.data) });

/** Everything a transform could change in place: rows, schema metadata, meta. */
function snapshot(batch: Batch) {
  return {
    rows: rowsOf(batch.data),
    fields: batch.data.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    metadata: [...batch.data.schema.metadata],
    meta: structuredClone(batch.meta),
  };
}

/**
 * The marble checks every per-batch transform passes: each input batch is answered in its own frame
 * and the output completes with the input; an input error reaches the subscriber at its frame;
 * unsubscribing unsubscribes the input; and the input batches are left as they were.
 * `expected` gives the output of a, b and c (each keeps its input's seq).
 */
export function perBatchSpec(operator: () => OperatorFunction<Batch, Batch>, expected: { a: unknown; b: unknown; c: unknown }): void {
  it('answers each batch in its frame and completes with its input', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c-|', { a, b, c });
      expectObservable(input.pipe(operator(), map(summary))).toBe('-a-b-c-|', {
        a: { seq: 0, retainedFrom: undefined, rows: expected.a },
        b: { seq: 1, retainedFrom: undefined, rows: expected.b },
        c: { seq: 2, retainedFrom: undefined, rows: expected.c },
      });
      expectSubscriptions(input.subscriptions).toBe('^------!');
    });
  });

  it('passes an input error on at its frame, after what came before', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-#', { a }, new Error('source broke')).pipe(
        operator(),
        map((batch) => batch.meta.seq),
      );
      expectObservable(out).toBe('-a-#', { a: 0 }, new Error('source broke'));
    });
  });

  it('unsubscribing downstream unsubscribes the input', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c-|', { a, b, c });
      expectObservable(
        input.pipe(
          operator(),
          map((batch) => batch.meta.seq),
        ),
        '^--!',
      ).toBe('-a-', { a: 0 });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });

  untouchedSpec(operator);
}

/** The input batches are left as they were, whatever the transform emits. */
export function untouchedSpec(operator: () => OperatorFunction<Batch, Batch>): void {
  it('never modifies an input batch', () => {
    const before = [a, b, c].map(snapshot);
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold('-a-b-c-|', { a, b, c }).pipe(
          operator(),
          map(() => 'x'),
        ),
      );
    });
    expect([a, b, c].map(snapshot)).toEqual(before);
  });
}

/** A registered transform's operator, from a config validated as a topology would validate it. */
export const transform = (type: string, config: unknown) => () => makeTransform(type, config);
