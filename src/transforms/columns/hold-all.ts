import { RecordBatch } from 'apache-arrow';
import { Observable, type OperatorFunction } from 'rxjs';
import { withData, type Batch } from '../../core/batch.js';

/**
 * The operator shape of a transform that needs its whole (bounded) input: every input batch is
 * held and answered at once by an empty batch carrying its meta and `retainedFrom` (the first
 * held seq), so credits flow while the checkpoint stays before the held rows. On completion the
 * results are emitted with the last batch's meta and `retainedFrom` cleared.
 */
export function holdAll(finish: (batches: RecordBatch[]) => RecordBatch[]): OperatorFunction<Batch, Batch> {
  return (source) =>
    new Observable<Batch>((subscriber) => {
      const held: RecordBatch[] = [];
      let firstSeq: number | undefined;
      let last: Batch | undefined;
      const subscription = source.subscribe({
        next(batch) {
          held.push(batch.data);
          firstSeq ??= batch.meta.seq;
          last = batch;
          subscriber.next(withData(batch, new RecordBatch(batch.data.schema, undefined), { retainedFrom: firstSeq ?? batch.meta.seq }));
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          if (last) {
            let results: RecordBatch[];
            try {
              results = finish(held);
            } catch (error) {
              subscriber.error(error);
              return;
            }
            held.length = 0;
            for (const data of results) subscriber.next(withData(last, data, { retainedFrom: undefined, deadLetters: undefined }));
          }
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
