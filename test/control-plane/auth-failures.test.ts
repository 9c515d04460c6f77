import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../src/control-plane/plugins/auth-failures.js';

describe('AuthFailureLimiter', () => {
  it('limits an address after its failures, until its window ends, and only that address', () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter(3, 60_000, 10_000, () => now);
    for (let i = 0; i < 2; i++) limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBeUndefined();
    now += 59_001;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    now += 1_000;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
  });

  it('keeps at most maxAddresses windows, forgetting the oldest first', () => {
    const limiter = new AuthFailureLimiter(1, 60_000, 2, () => 0);
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    limiter.recordFailure('c');
    expect(['a', 'b', 'c'].map((address) => limiter.retryAfterSeconds(address) !== undefined)).toEqual([false, true, true]);
  });
});
