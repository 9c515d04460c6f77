import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { REDIS_URL, dropRedisPrefix, engineFor, uniquePrefix } from './helpers.js';

describe('one run of a rule at a time across processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
  const prefix = uniquePrefix('lock');
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    redis.disconnect();
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'in.csv'), 'id,name\n1,a\n');
  const files = { type: 'file', config: { path: join(dir, 'in.csv') } };
  const out = { type: 'file', config: { path: join(dir, 'out.ndjson') } };
  const rule = parseSyncRule({
    rule_id: 'locked',
    name: 'Locked',
    source: 'in',
    target: 'out',
    mode: 'snapshot',
    filters: { primary_key: ['id'] },
  });

  it('refuses a run while another engine holds the rule, and runs once it is released', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = engineFor(prefix, async (name) => (name === 'in' ? (await gate, files) : out));
    const second = engineFor(prefix, async (name) => (name === 'in' ? files : out));
    try {
      const running = await first.start(rule);
      await expect(second.start(rule)).rejects.toThrow(/running in another process/);
      release();
      expect((await running.done).status).toBe('completed');
      expect((await second.execute(rule)).status).toBe('completed');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('takes over the lock of a process on this host that is gone, never of one that lives', async () => {
    const engine = engineFor(prefix, async (name) => (name === 'in' ? files : out));
    const lockKey = `${prefix}locked:lock`;
    try {
      await redis.set(lockKey, `${hostname()}|${process.ppid}|other`, 'PX', 30_000);
      await expect(engine.start(rule)).rejects.toThrow(/running in another process/);
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      await redis.set(lockKey, `${hostname()}|${gone}|killed`, 'PX', 30_000);
      expect((await engine.execute(rule)).status).toBe('completed');
      expect(await redis.exists(lockKey)).toBe(0);
    } finally {
      await engine.close();
    }
  });
});
