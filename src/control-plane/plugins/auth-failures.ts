/**
 * Failed authentications per client address in a fixed window. An address over the limit is
 * refused before its key is even checked, so guessing keys gains nothing from a right guess.
 * Memory is bounded: past `maxAddresses` the oldest windows are forgotten first.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again, or undefined when it is not limited. */
  retryAfterSeconds(address: string): number | undefined {
    const window = this.current(address);
    if (!window || window.failures < this.maxFailures) return undefined;
    return Math.max(1, Math.ceil((window.endsAt - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    const window = this.current(address);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { failures: 1, endsAt: this.now() + this.windowMs });
  }

  private current(address: string) {
    const window = this.windows.get(address);
    if (window && window.endsAt <= this.now()) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
