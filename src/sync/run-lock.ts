import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/** Deletes the lock only while this owner still holds it. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Extends the lock only while this owner still holds it. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/** Takes over a lock whose holder is known to be gone. */
const STEAL =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end";

/**
 * A rule's run lock in Redis, so two processes (two control planes, a CLI and a server) never run
 * one rule at once. It expires unless renewed, so a crashed holder frees it; a holder on this host
 * whose process is gone (`kill -9`) is taken over at once instead of after the expiry.
 */
export class RunLock {
  private readonly owner = `${hostname()}|${process.pid}|${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs = 30_000,
  ) {}

  /** True when this process now holds the lock. */
  async acquire(): Promise<boolean> {
    let taken = (await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK';
    if (!taken) {
      const holder = await this.redis.get(this.key);
      if (holder && holderIsGone(holder)) taken = (await this.redis.eval(STEAL, 1, this.key, holder, this.owner, this.ttlMs)) === 'OK';
    }
    if (taken) {
      this.timer = setInterval(
        () => void this.redis.eval(RENEW, 1, this.key, this.owner, this.ttlMs).catch(() => undefined),
        this.ttlMs / 3,
      );
      this.timer.unref();
    }
    return taken;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}

function holderIsGone(holder: string): boolean {
  const [host, pid] = holder.split('|');
  if (host !== hostname() || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
