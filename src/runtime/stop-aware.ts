import { Observable, Subject, type OperatorFunction } from 'rxjs';

/**
 * Runs a transform's operator so that a stop is not an end of input. When the input completes
 * because the run was stopped, the operator is unsubscribed instead of completed, and the output
 * completes: a whole-input transform or an open window never sees an end, so it emits no partial
 * result, and what it still holds keeps the checkpoint at its retention mark. Work the operator
 * had in progress is dropped unacknowledged, to be read again by the next run.
 */
export function stopAware<T, R>(operator: OperatorFunction<T, R>, stopped: () => boolean): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const input = new Subject<T>();
      const inner = input
        .asObservable()
        .pipe(operator)
        .subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        });
      const outer = source.subscribe({
        next: (value) => input.next(value),
        error: (error: unknown) => input.error(error),
        complete: () => {
          if (!stopped()) return input.complete();
          inner.unsubscribe();
          subscriber.complete();
        },
      });
      return () => {
        outer.unsubscribe();
        inner.unsubscribe();
      };
    });
}
