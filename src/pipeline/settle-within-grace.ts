/**
 * Settles as `work` does, unless `signal` aborts and `work` has not settled `graceMs` later: then
 * it rejects with `abandoned(signal.reason)` and `work` is left to end on its own, its late result
 * dropped. A step whose sink (or source, or query) ignores its abort signal therefore cannot hold
 * up a cancel, a timeout or a shutdown for longer than the grace.
 *
 * @example
 * await settleWithinGrace(runStep(signal), signal, 5_000, (reason) => new Error(`${reason}; abandoned`));
 */
export function settleWithinGrace<T>(
  work: Promise<T>,
  signal: AbortSignal,
  graceMs: number,
  abandoned: (reason: unknown) => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(abandoned(signal.reason)), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}
