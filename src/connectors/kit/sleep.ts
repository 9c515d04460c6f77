/**
 * Waits `ms`, or less when `signal` aborts (then it resolves at once, so a loop checks the
 * signal next). The abort listener is removed when the wait ends, so a long poll loop on one
 * signal does not pile up listeners.
 *
 * @example
 * while (!signal.aborted) { await poll(); await sleep(interval, signal); }
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
