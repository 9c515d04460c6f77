import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSyncRule } from '../../src/sync/rule-schema.js';
import { SyncScheduler } from '../../src/sync/sync-scheduler.js';
import { dropRedisPrefix, engineFor, silent, uniquePrefix } from './helpers.js';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

describe('sync schedules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-schedule-'));
  const prefix = uniquePrefix('schedule');
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not start a rule again while its previous run is still going', async () => {
    writeFileSync(join(dir, 'in.csv'), 'id,name\n1,a\n2,b\n');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const engine = engineFor(prefix, async (name) => {
      if (name === 'export') {
        started++;
        await gate; // the first run hangs here until released
        return { type: 'file', config: { path: join(dir, 'in.csv') } };
      }
      return { type: 'file', config: { path: join(dir, 'out.ndjson') } };
    });
    const scheduler = new SyncScheduler(engine, silent);
    const rule = parseSyncRule({
      rule_id: 'every_second',
      name: 'Every second',
      source: 'export',
      target: 'out',
      mode: 'snapshot',
      schedule: '* * * * * *',
      filters: { primary_key: ['id'] },
    });
    try {
      scheduler.schedule(rule);
      expect(scheduler.nextRun('every_second')).toBeInstanceOf(Date);
      await until(() => scheduler.skipped('every_second') >= 2);
      expect(started).toBe(1);
      release();
      await until(() => !engine.isRunning('every_second'));
      const [run] = await engine.store.history('every_second');
      expect(run).toMatchObject({ status: 'completed', trigger: 'schedule', rows_inserted: 2 });
      scheduler.unschedule('every_second');
      expect(scheduler.nextRun('every_second')).toBeUndefined();
    } finally {
      scheduler.stopAll();
      await engine.close();
    }
  });
});
