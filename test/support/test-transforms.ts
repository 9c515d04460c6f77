import { Type } from '@sinclair/typebox';
import { map } from 'rxjs';
import { recordBatchFromColumns, withData } from '../../src/core/batch.js';
import { registry } from '../../src/core/registry.js';

/** Keeps rows with an even `id`: a minimal filtering transform for runtime tests. */
registry.transform({
  type: 'test_keep_even',
  description: 'test: keeps even ids',
  configSchema: Type.Object({}),
  create: () =>
    map((batch) => {
      const ids = [...(batch.data.getChild('id') ?? [])].map(Number).filter((v) => v % 2 === 0);
      return withData(batch, recordBatchFromColumns({ id: Int32Array.from(ids) }));
    }),
});

/**
 * Holds every row until its input completes, emitting empty batches that say which seq it still
 * retains: the contract of a transform keeping state (a full aggregate).
 */
registry.transform({
  type: 'test_hold_all',
  description: 'test: emits everything at completion',
  configSchema: Type.Object({}),
  reshapes: true,
  create: () => (source) =>
    new (source.constructor as typeof import('rxjs').Observable)((subscriber) => {
      const held: number[] = [];
      let firstSeq: number | undefined;
      let last: import('../../src/core/batch.js').Batch | undefined;
      return source.subscribe({
        next(batch) {
          firstSeq ??= batch.meta.seq;
          last = batch;
          for (const v of batch.data.getChild('id') ?? []) held.push(Number(v));
          subscriber.next(withData(batch, recordBatchFromColumns({ id: new Int32Array(0) }), { retainedFrom: firstSeq }));
        },
        error: (e) => subscriber.error(e),
        complete() {
          if (last) subscriber.next(withData(last, recordBatchFromColumns({ id: Int32Array.from(held) }), { retainedFrom: undefined }));
          subscriber.complete();
        },
      });
    }),
});
