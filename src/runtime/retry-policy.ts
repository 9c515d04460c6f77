import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { isRetriable } from '../core/errors.js';

/** Retries an operation failing with a retriable error up to `retries` times, backing off from 100 ms to 5 s. */
export function retriablePolicy(retries: number): RetryPolicy {
  return retry(handleWhen(isRetriable), { maxAttempts: retries, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5_000 }) });
}
