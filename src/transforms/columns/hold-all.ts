import { RecordBatch } from 'apache-arrow';
import { Observable, type OperatorFunction } from 'rxjs';
import { withData, type Batch } from '../../core/batch.js';
import { lowerMark, Retention } from '../../core/retention.js';

/**
 * The operator shape of a transform that needs its whole (bounded) input: every input batch is
 * held and answered at once by an empty batch carrying its meta and `retainedFrom` (the lowest
 * origin held, combined with what upstream holds), so credits flow while the checkpoint stays
 * before the held rows. On completion the results are emitted with the last batch's meta; every
 * result but the last still retains the held rows, which are not all out until the last is.
 */
export function holdAll(finish: (batches: RecordBatch[]) => RecordBatch[]): OperatorFunction<Batch, Batch> {
  return (source) =>
    new Observable<Batch>((subscriber) => {
      const held: RecordBatch[] = [];
      const retention = new Retention();
      let heldFrom: number | undefined;
      let last: Batch | undefined;
      const subscription = source.subscribe({
        next(batch) {
          held.push(batch.data);
          heldFrom = lowerMark(heldFrom, retention.admit(batch));
          last = batch;
          subscriber.next(withData(batch, new RecordBatch(batch.data.schema, undefined), { retainedFrom: retention.mark(heldFrom) }));
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          const final = last;
          if (final) {
            let results: RecordBatch[];
            try {
              results = finish(held);
            } catch (error) {
              subscriber.error(error);
              return;
            }
            held.length = 0;
            results.forEach((data, i) => {
              const retainedFrom = retention.mark(i < results.length - 1 ? heldFrom : undefined);
              subscriber.next(withData(final, data, { retainedFrom, deadLetters: undefined }));
            });
          }
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
